"""SyncNet v2 (spec §8.1): the two-stream network with the exact state-dict layout, and a loader.

The layer order reproduces the published ``syncnet_v2.model`` key names (``netcnnaud.0.weight``
... ``netfclip.3.bias``), so the official file loads as it is. v2 expects **BGR** float frames
with no normalisation (raw 0..255 values) and raw-int16-scale MFCCs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from voxrepro.errors import ModelError
from voxrepro.types import Pathlike

logger = logging.getLogger("voxrepro")

#: Embedding size of both streams.
EMBEDDING_SIZE = 1024
#: Side of the square face crop the lip stream accepts (its final 6×6 conv needs exactly this).
FRAME_SIZE = 224
#: Video frames per lip-stream window (5 frames = 0.2 s at 25 fps).
WINDOW_FRAMES = 5
#: MFCC coefficients and MFCC steps per audio window (20 steps = 0.2 s at 100 steps/s).
MFCC_COEFFS = 13
WINDOW_MFCC_STEPS = 20
#: State-dict keys the official file may lack (``loadParameters`` copies only what the file has).
OPTIONAL_KEY_SUFFIX = "num_batches_tracked"


def _conv2d_block(c_in: int, c_out: int, **conv: object) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, **conv), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def _conv3d_block(c_in: int, c_out: int, **conv: object) -> list[nn.Module]:
    return [nn.Conv3d(c_in, c_out, **conv), nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)]


def _fc_head() -> nn.Sequential:
    # 0 Linear, 1 BN1d, 2 ReLU, 3 Linear: the indices are the key names.
    return nn.Sequential(
        nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, EMBEDDING_SIZE)
    )


def _audio_cnn() -> nn.Sequential:
    """N×1×13×20 MFCC window -> N×512×1×1 (indices 0..20 as in spec §8.1)."""
    return nn.Sequential(
        *_conv2d_block(1, 64, kernel_size=3, padding=1),  # 0-2
        nn.MaxPool2d(kernel_size=1, stride=1),  # 3: a no-op kept for the indices
        *_conv2d_block(64, 192, kernel_size=3, padding=1),  # 4-6
        nn.MaxPool2d(kernel_size=3, stride=(1, 2)),  # 7 -> 11×9
        *_conv2d_block(192, 384, kernel_size=3, padding=1),  # 8-10
        *_conv2d_block(384, 256, kernel_size=3, padding=1),  # 11-13
        *_conv2d_block(256, 256, kernel_size=3, padding=1),  # 14-16
        nn.MaxPool2d(kernel_size=3, stride=2),  # 17 -> 5×4
        *_conv2d_block(256, 512, kernel_size=(5, 4), padding=0),  # 18-20 -> 1×1
    )


def _lip_cnn() -> nn.Sequential:
    """N×3×5×224×224 (C, T, H, W) BGR window -> N×512×1×1×1 (indices 0..20, spec §8.1)."""
    return nn.Sequential(
        *_conv3d_block(3, 96, kernel_size=(5, 7, 7), stride=(1, 2, 2), padding=0),  # 0-2 -> 109²
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),  # 3 -> 54²
        *_conv3d_block(96, 256, kernel_size=(1, 5, 5), stride=(1, 2, 2), padding=(0, 1, 1)),
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),  # 7 -> 13²
        *_conv3d_block(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),  # 8-10
        *_conv3d_block(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),  # 11-13
        *_conv3d_block(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),  # 14-16
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),  # 17 -> 6²
        *_conv3d_block(256, 512, kernel_size=(1, 6, 6), padding=0),  # 18-20 -> 1×1×1
    )


class SyncNetV2(nn.Module):
    """The SyncNet v2 audio and lip streams (1024-d embeddings each).

    Attribute names and Sequential indices are part of the contract: they are the state-dict
    keys of ``syncnet_v2.model``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.netcnnaud = _audio_cnn()
        self.netfcaud = _fc_head()
        self.netcnnlip = _lip_cnn()
        self.netfclip = _fc_head()

    def forward_aud(self, mfcc_windows: torch.Tensor) -> torch.Tensor:
        """Embed audio windows.

        Args:
            mfcc_windows: (N, 1, 13, 20) MFCC windows (int16-scale input, 100 steps/s).

        Returns:
            (N, 1024) audio embeddings.
        """
        if mfcc_windows.ndim != 4 or tuple(mfcc_windows.shape[1:]) != (
            1,
            MFCC_COEFFS,
            WINDOW_MFCC_STEPS,
        ):
            raise ValueError(
                f"audio windows must be N×1×{MFCC_COEFFS}×{WINDOW_MFCC_STEPS}, "
                f"got {tuple(mfcc_windows.shape)}"
            )
        mid = self.netcnnaud(mfcc_windows)
        return self.netfcaud(mid.flatten(1))

    def forward_lip(self, video_windows: torch.Tensor) -> torch.Tensor:
        """Embed lip windows.

        Args:
            video_windows: (N, 3, 5, 224, 224) BGR float windows, values 0..255, C-T-H-W order.

        Returns:
            (N, 1024) video embeddings.
        """
        expected = (3, WINDOW_FRAMES, FRAME_SIZE, FRAME_SIZE)
        if video_windows.ndim != 5 or tuple(video_windows.shape[1:]) != expected:
            raise ValueError(
                f"lip windows must be N×3×{WINDOW_FRAMES}×{FRAME_SIZE}×{FRAME_SIZE} "
                f"(frames exactly {FRAME_SIZE}×{FRAME_SIZE}), got {tuple(video_windows.shape)}"
            )
        mid = self.netcnnlip(video_windows)
        return self.netfclip(mid.flatten(1))


def expected_syncnet_shapes(
    include_num_batches_tracked: bool = False,
) -> dict[str, tuple[int, ...]]:
    """The state-dict keys and tensor shapes of SyncNet v2.

    Args:
        include_num_batches_tracked: also list the 14 BatchNorm ``num_batches_tracked``
            counters (shape ``()``), which the official file may lack.

    Returns:
        key -> shape, in module order: 88 keys, or 102 with the counters.
    """
    state = SyncNetV2().state_dict()
    return {
        key: tuple(value.shape)
        for key, value in state.items()
        if include_num_batches_tracked or not key.endswith(OPTIONAL_KEY_SUFFIX)
    }


def find_state_problems(state: Mapping[str, object]) -> list[str]:
    """Compare a loaded state dict with the SyncNet v2 layout.

    Args:
        state: mapping of key -> tensor, as read from a weights file.

    Returns:
        One message per problem (missing required key, unexpected key, non-tensor value,
        wrong shape), empty when the state loads. Missing ``num_batches_tracked`` is fine.
    """
    expected = expected_syncnet_shapes(include_num_batches_tracked=True)
    problems: list[str] = []
    for key, shape in expected.items():
        if key not in state:
            if not key.endswith(OPTIONAL_KEY_SUFFIX):
                problems.append(f"missing key {key} (expected shape {list(shape)})")
            continue
        value = state[key]
        if not isinstance(value, torch.Tensor):
            problems.append(f"key {key} holds {type(value).__name__}, not a tensor")
        elif tuple(value.shape) != shape:
            problems.append(f"key {key} has shape {list(value.shape)}, expected {list(shape)}")
    problems.extend(f"unexpected key {key}" for key in state if key not in expected)
    return problems


def _read_state(path: Path) -> Mapping[str, object]:
    if not path.is_file():
        raise ModelError(f"{path}: SyncNet weights file not found (syncnet_v2.model expected)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or unsafe files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelError(
            f"{path}: cannot read SyncNet weights ({type(error).__name__}: {first_line})"
        ) from error
    if not isinstance(state, Mapping):
        raise ModelError(f"{path}: expected a state dict, found {type(state).__name__}")
    return state


def load_syncnet(path: Pathlike, device: str | torch.device = "cpu") -> SyncNetV2:
    """Load ``syncnet_v2.model`` (a plain state dict) into a SyncNet v2 in eval mode.

    Every key except the BatchNorm ``num_batches_tracked`` counters must be present with the
    right shape; nothing else may be in the file.

    Args:
        path: the weights file.
        device: where the model should live (``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...).

    Returns:
        The model, in eval mode, on ``device``.

    Raises:
        ModelError: the file is missing or unreadable, or a key is missing, unexpected or has
            the wrong shape (the message names the file, the key and both shapes).
    """
    path = Path(path)
    state = _read_state(path)
    problems = find_state_problems(state)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ModelError(f"{path}: not a SyncNet v2 state dict: {problems[0]}{more}")
    model = SyncNetV2()
    # strict=False only so that absent num_batches_tracked counters are tolerated; every other
    # key was checked above.
    model.load_state_dict(dict(state), strict=False)  # type: ignore[arg-type]
    logger.debug("loaded SyncNet v2 weights from %s (%d tensors)", path, len(state))
    return model.to(device).eval()


def make_random_syncnet(seed: int = 0) -> SyncNetV2:
    """A randomly initialised SyncNet v2 in eval mode (tests and benchmarks; no weights here).

    Args:
        seed: torch seed for the initialisation.
    """
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = SyncNetV2()
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()
