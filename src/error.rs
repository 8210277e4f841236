//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `cyclegan-burn` that a user can cause or fix.
///
/// Messages name the file or configuration field involved and both the value found and the value
/// expected, so that a program can print them as one line and exit.
#[derive(Debug, thiserror::Error)]
pub enum CycleGanError {
    /// An input batch has the wrong number of channels for the network.
    #[error(
        "input has {found} channels but the network expects {expected} (check input_nc / output_nc)"
    )]
    ChannelMismatch {
        /// Channels the network was built for.
        expected: usize,
        /// Channels of the input.
        found: usize,
    },

    /// An input batch does not have the shape a network can process.
    #[error("input of shape {shape:?} cannot be processed: {reason}")]
    InvalidInputShape {
        /// The `[N, C, H, W]` shape of the input.
        shape: [usize; 4],
        /// What is wrong with it.
        reason: String,
    },

    /// A backend name that is unknown or was not compiled in.
    #[error("unknown or unavailable backend `{name}`: this build has {available}")]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The backends compiled into this build, comma-separated.
        available: String,
    },

    /// A backend that is compiled in but cannot be used on this machine.
    #[error("backend `{name}` is not usable here: {reason}")]
    BackendUnavailable {
        /// The backend name.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// A configuration value that is unknown or inconsistent with other values. The field
    /// is named as in the library (`net_g`, `lambda_a`, `batch_size`, ...); the programs
    /// translate it into their option names (`--netG`, `--lambda_A`, ...).
    #[error("invalid {field}: {message}")]
    InvalidConfig {
        /// The configuration field (`net_g`, `norm`, `lambda_identity`, ...).
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// Training produced a loss that is not a finite number.
    #[error(
        "training diverged at epoch {epoch}, iteration {iteration}: a loss is not finite ({losses}); the last checkpoint in {run_dir} is intact"
    )]
    Diverged {
        /// The epoch of the step.
        epoch: usize,
        /// Images trained on, including the step's.
        iteration: usize,
        /// The step's losses, by name.
        losses: String,
        /// The run folder, whose last checkpoint predates the step.
        run_dir: PathBuf,
    },

    /// A data loader worker stopped before delivering its batches.
    #[error("the data loader stopped: {message}")]
    DataLoader {
        /// What happened.
        message: String,
    },

    /// A tensor whose values cannot be read (an unexpected element type).
    #[error("cannot read the tensor's values: {message}")]
    TensorData {
        /// The underlying error.
        message: String,
    },

    /// A checkpoint that cannot be read or does not fit the network.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it, and a hint where one helps.
        message: String,
    },

    /// A data set folder or image problem.
    #[error("{path}: {message}")]
    Data {
        /// The file or folder involved.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl CycleGanError {
    /// Shorthand for [`CycleGanError::InvalidConfig`].
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CycleGanError::Checkpoint`].
    pub fn checkpoint(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Checkpoint {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`CycleGanError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with [`CycleGanError`].
pub type Result<T, E = CycleGanError> = std::result::Result<T, E>;
