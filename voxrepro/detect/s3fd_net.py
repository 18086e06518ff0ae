"""The S3FD network with the exact module names of the official ``sfd_face.pth`` (spec §4.3).

The module tree must match the 65 tensors of the published file so that it loads with a strict
``load_state_dict``; the layer list below is written from the spec's table, not copied. The
forward pass returns the raw head outputs: priors, decoding and NMS live in ``s3fd_box`` so that
they can be batched and tested on their own.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from voxrepro.errors import ModelError
from voxrepro.types import Pathlike

#: Number of tensors in the official file (15 VGG convs x 2, 3 L2Norm, 4 extras x 2, 12 heads x 2).
S3FD_KEY_COUNT = 65
#: (in, out) channels of the six source maps feeding the heads (strides 4 .. 128).
SOURCE_CHANNELS = (256, 512, 512, 1024, 512, 256)
#: Initial scales of L2Norm3_3 / 4_3 / 5_3 (only used by a random-init network).
L2NORM_SCALES = {"L2Norm3_3": (256, 10.0), "L2Norm4_3": (512, 8.0), "L2Norm5_3": (512, 5.0)}


class L2Norm(nn.Module):
    """Channel-wise L2 normalisation with a learned per-channel scale: x / (||x||_2 + 1e-10) * w."""

    def __init__(self, channels: int, scale: float) -> None:
        super().__init__()
        self.eps = 1e-10
        self.weight = nn.Parameter(torch.full((channels,), float(scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # eps is added after the sqrt, as in the reference (changes numbers on near-zero maps).
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        return self.weight.view(1, -1, 1, 1) * (x / norm)


def _vgg_layers() -> nn.ModuleList:
    """VGG16 to fc7, 35 entries: convs at 0,2,5,7,10,12,14,17,19,21,24,26,28,31,33, ReLU after."""

    def conv(cin: int, cout: int, k: int = 3, padding: int = 0, dilation: int = 1) -> list:
        layer = nn.Conv2d(cin, cout, kernel_size=k, padding=padding, dilation=dilation)
        return [layer, nn.ReLU(inplace=True)]

    layers: list[nn.Module] = [
        *conv(3, 64, padding=1), *conv(64, 64, padding=1), nn.MaxPool2d(2, 2),  # 0..4
        *conv(64, 128, padding=1), *conv(128, 128, padding=1), nn.MaxPool2d(2, 2),  # 5..9
        *conv(128, 256, padding=1), *conv(256, 256, padding=1), *conv(256, 256, padding=1),
        nn.MaxPool2d(2, 2, ceil_mode=True),  # 16: ceil_mode changes the stride-8 map size
        *conv(256, 512, padding=1), *conv(512, 512, padding=1), *conv(512, 512, padding=1),
        nn.MaxPool2d(2, 2),  # 23
        *conv(512, 512, padding=1), *conv(512, 512, padding=1), *conv(512, 512, padding=1),
        nn.MaxPool2d(2, 2),  # 30
        *conv(512, 1024, padding=6, dilation=6),  # 31: fc6
        *conv(1024, 1024, k=1),  # 33: fc7
    ]  # fmt: skip
    return nn.ModuleList(layers)


class S3FDNet(nn.Module):
    """S3FD (VGG16 backbone, 6 source maps, one anchor per location).

    Input: (B, 3, h, w) float32, RGB minus means (123, 117, 104), not divided by 255 (§4.2).
    Output of ``forward``: ``loc`` (B, P, 4) box offsets, ``conf`` (B, P, 2) logits with the
    conf.0 max-out background already applied (class 1 = face), and the six (fh, fw) map sizes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.vgg = _vgg_layers()
        for name, (channels, scale) in L2NORM_SCALES.items():
            setattr(self, name, L2Norm(channels, scale))
        self.extras = nn.ModuleList(
            [
                nn.Conv2d(1024, 256, 1),
                nn.Conv2d(256, 512, 3, stride=2, padding=1),
                nn.Conv2d(512, 128, 1),
                nn.Conv2d(128, 256, 3, stride=2, padding=1),
            ]
        )
        self.loc = nn.ModuleList([nn.Conv2d(c, 4, 3, padding=1) for c in SOURCE_CHANNELS])
        # conf.0 has 4 outputs: three background channels are max-ed out (small-face trick).
        conf_out = (4, 2, 2, 2, 2, 2)
        self.conf = nn.ModuleList(
            [nn.Conv2d(c, n, 3, padding=1) for c, n in zip(SOURCE_CHANNELS, conf_out, strict=True)]
        )

    def sources(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The six source maps (strides 4, 8, 16, 32, 64, 128)."""
        out: list[torch.Tensor] = []
        for k in range(16):
            x = self.vgg[k](x)
        out.append(self.L2Norm3_3(x))
        for k in range(16, 23):
            x = self.vgg[k](x)
        out.append(self.L2Norm4_3(x))
        for k in range(23, 30):
            x = self.vgg[k](x)
        out.append(self.L2Norm5_3(x))
        for k in range(30, len(self.vgg)):
            x = self.vgg[k](x)
        out.append(x)
        for k, layer in enumerate(self.extras):
            x = torch.relu(layer(x))
            if k % 2 == 1:
                out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
        locs: list[torch.Tensor] = []
        confs: list[torch.Tensor] = []
        sizes: list[tuple[int, int]] = []
        for k, source in enumerate(self.sources(x)):
            loc = self.loc[k](source)
            conf = self.conf[k](source)
            if k == 0:
                background = conf[:, 0:3].amax(dim=1, keepdim=True)
                conf = torch.cat((background, conf[:, 3:]), dim=1)
            sizes.append((int(loc.shape[2]), int(loc.shape[3])))
            # N,C,H,W -> N,H,W,C then flatten: priors run over rows, then columns.
            locs.append(loc.permute(0, 2, 3, 1).reshape(loc.shape[0], -1, 4))
            confs.append(conf.permute(0, 2, 3, 1).reshape(conf.shape[0], -1, 2))
        return torch.cat(locs, dim=1), torch.cat(confs, dim=1), sizes


def expected_s3fd_shapes() -> dict[str, tuple[int, ...]]:
    """The 65 key -> shape pairs a valid ``sfd_face.pth`` must hold."""
    return {key: tuple(t.shape) for key, t in S3FDNet().state_dict().items()}


def load_s3fd(path: Pathlike, device: str | torch.device = "cpu") -> S3FDNet:
    """Build S3FDNet and load the official weights strictly, in eval mode on ``device``.

    Raises:
        ModelError: the file is missing or unreadable, or a key is missing, extra or has the
            wrong shape (the message names the file, the first offending key and both shapes).
    """
    from voxrepro.weights import read_state_dict, require_valid_state_dict

    path = Path(path)
    state = read_state_dict(path)
    net = S3FDNet()
    require_valid_state_dict(state, expected_s3fd_shapes(), path, model="S3FD")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as error:  # dtype or other mismatch the shape check cannot see
        first = str(error).strip().splitlines()[-1].strip()
        raise ModelError(f"{path}: not a valid S3FD state dict: {first}") from error
    return net.to(device).eval()
