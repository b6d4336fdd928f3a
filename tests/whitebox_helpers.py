"""White-box fakes: classifiers whose preprocessing is the identity (linear, MLP, convolutional), images and the
closed forms they are checked against. Used by the white-box method tests and ``tests/interfaces/test_whitebox.py``."""

import numpy as np
import torch
from torch import nn

H, W, C, K = 6, 5, 3, 4


class IdentityWhitebox:
    """A white-box classifier whose preprocessing is the identity: ``model`` sees the image in [0, 1]."""

    def __init__(self, model: nn.Module, n_labels: int):
        self.model = model.eval()
        self.n_labels = n_labels

    def preprocess(self, images, *, channels_first=False):
        x = torch.as_tensor(images)
        return x if channels_first else x.permute(0, 3, 1, 2)

    def get_labels(self):
        return [f"class{k}" for k in range(self.n_labels)]


def linear_classifier(seed=0):
    """logits = W . x + b over the flattened C x H x W image; returns (classifier, W (K x C x H x W), b)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, K))
    weight = model[1].weight.detach().numpy().reshape(K, C, H, W).astype(np.float64)
    return IdentityWhitebox(model, K), weight, model[1].bias.detach().numpy().astype(np.float64)


def mlp_classifier(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 16), nn.Tanh(), nn.Linear(16, K))
    return IdentityWhitebox(model, K)


def image_uint8(seed=0, shape=(H, W, C)):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def chw(image):
    return image.astype(np.float64).transpose(2, 0, 1) / 255.0


def logits_of(weight, bias, x):
    return np.einsum("kchw,chw->k", weight, x) + bias


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def conv_classifier(seed=0):
    """conv 3x3 -> global average pool -> linear: GradCAM_k = ReLU(sum_c w_kc A_c) / (h w), A = conv(x)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(C, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, K))
    return IdentityWhitebox(model, K)
