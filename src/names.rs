//! The official spellings of the options whose values are names (`--netG resnet_9blocks`,
//! `--norm instance`, ...), written once per type: [`official_names!`] turns one table into
//! `FromStr`, `Display`, the list of names (`names()`), and (with the `clap` feature) `clap::ValueEnum`.

/// Implements `FromStr` (official names and aliases; otherwise an
/// [`InvalidConfig`](crate::error::CycleGanError::InvalidConfig) error naming the field and
/// the accepted names), `Display` (the official name), `names()` and, with the `clap` feature,
/// `clap::ValueEnum` for a fieldless enum, from one table:
///
/// ```ignore
/// official_names!(GanMode, "gan_mode", {
///     Lsgan => "lsgan",
///     Wgan => "wgangp" | "wgan",
///     Plateau => "plateau" (hidden),
/// });
/// ```
///
/// A `(hidden)` name is accepted but not listed (in `names()`, errors or `--help`).
macro_rules! official_names {
    ($type:ident, $field:literal, {
        $($variant:ident => $name:literal $(| $alias:literal)* $(($hidden:ident))?),+ $(,)?
    }) => {
        impl $type {
            /// The official names of the values, in order (names accepted only to explain
            /// why they are refused left out).
            pub fn names() -> Vec<&'static str> {
                [$(($name, $crate::names::official_names!(@hidden $($hidden)?))),+]
                    .into_iter()
                    .filter(|(_, hidden)| !hidden)
                    .map(|(name, _)| name)
                    .collect()
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $crate::error::CycleGanError;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                match name {
                    $($name $(| $alias)* => Ok(Self::$variant),)+
                    other => Err($crate::error::CycleGanError::config(
                        $field,
                        format!(
                            "`{other}` is not one of {}",
                            Self::names().join(", ")
                        ),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => $name,)+
                })
            }
        }

        #[cfg(feature = "clap")]
        impl ::clap::ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$(Self::$variant),+]
            }

            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                Some(match self {
                    $(Self::$variant => ::clap::builder::PossibleValue::new($name)
                        $(.alias($alias))*
                        .hide($crate::names::official_names!(@hidden $($hidden)?)),)+
                })
            }
        }
    };
    (@hidden) => { false };
    (@hidden hidden) => { true };
}
pub(crate) use official_names;
