"""The official CycleGAN training step (models/cycle_gan_model.py: optimize_parameters, LSGAN)
and its image pool (util/image_pool.py) from junyanz/pytorch-CycleGAN-and-pix2pix (BSD
licence), re-declared for the scripts that train or benchmark PyTorch beside cyclegan-burn
(scripts/pytorch_stripeshapes.py, scripts/bench_pytorch.py)."""
import random

import torch
import torch.nn as nn


class ImagePool:
    """util/image_pool.py."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:
            image = torch.unsqueeze(image.data, 0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.uniform(0, 1) > 0.5:
                k = random.randint(0, self.size - 1)
                out.append(self.images[k].clone())
                self.images[k] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def set_requires_grad(nets, flag):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = flag


class CycleGAN:
    """The four networks, the two Adams (betas (beta1, 0.999)), the two pools and the losses of
    CycleGANModel; `optimize_parameters` is one official training step."""

    def __init__(self, g_a, g_b, d_a, d_b, lr, beta1=0.5, lambda_a=10.0, lambda_b=10.0,
                 lambda_identity=0.5, pool_size=50):
        self.g_a, self.g_b, self.d_a, self.d_b = g_a, g_b, d_a, d_b
        betas = (beta1, 0.999)
        self.opt_g = torch.optim.Adam(list(g_a.parameters()) + list(g_b.parameters()), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(list(d_a.parameters()) + list(d_b.parameters()), lr=lr, betas=betas)
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self.lambda_a, self.lambda_b, self.lambda_identity = lambda_a, lambda_b, lambda_identity
        self.mse, self.l1 = nn.MSELoss(), nn.L1Loss()

    def gan_loss(self, prediction, target_is_real):
        """GANLoss('lsgan')."""
        target = torch.tensor(1.0 if target_is_real else 0.0, device=prediction.device)
        return self.mse(prediction, target.expand_as(prediction))

    def optimize_parameters(self, real_a, real_b):
        """G_A and G_B with the discriminators frozen, then D_A and D_B on pooled fakes.
        Returns the losses as detached tensors: g, d_a, d_b and cycle (A and B together)."""
        g_a, g_b, d_a, d_b, l1 = self.g_a, self.g_b, self.d_a, self.d_b, self.l1
        fake_b = g_a(real_a)
        rec_a = g_b(fake_b)
        fake_a = g_b(real_b)
        rec_b = g_a(fake_a)
        set_requires_grad([d_a, d_b], False)
        self.opt_g.zero_grad()
        loss_idt = 0
        if self.lambda_identity > 0:
            loss_idt_a = l1(g_a(real_b), real_b) * self.lambda_b * self.lambda_identity
            loss_idt_b = l1(g_b(real_a), real_a) * self.lambda_a * self.lambda_identity
            loss_idt = loss_idt_a + loss_idt_b
        loss_cycle = l1(rec_a, real_a) * self.lambda_a + l1(rec_b, real_b) * self.lambda_b
        loss_g = self.gan_loss(d_a(fake_b), True) + self.gan_loss(d_b(fake_a), True) + loss_cycle + loss_idt
        loss_g.backward()
        self.opt_g.step()
        set_requires_grad([d_a, d_b], True)
        self.opt_d.zero_grad()
        losses_d = []
        for d, real, fake in ((d_a, real_b, self.pool_b.query(fake_b)), (d_b, real_a, self.pool_a.query(fake_a))):
            loss_d = (self.gan_loss(d(real), True) + self.gan_loss(d(fake.detach()), False)) * 0.5
            loss_d.backward()
            losses_d.append(loss_d.detach())
        self.opt_d.step()
        return {"g": loss_g.detach(), "d_a": losses_d[0], "d_b": losses_d[1], "cycle": loss_cycle.detach()}
