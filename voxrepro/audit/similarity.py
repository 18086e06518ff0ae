"""Image similarity of grey frames: PSNR and SSIM (pure numpy/OpenCV, no I/O).

SSIM follows Wang et al. (2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01,
K2 = 0.03, dynamic range L = 255, computed on 8-bit grey (luma) frames. Local statistics use
``cv2.GaussianBlur`` and the SSIM map is averaged over the "valid" part only (5 pixels cropped
on each side, where the window fits inside the image), as in the reference MATLAB code.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

GreyImage = npt.NDArray[np.uint8]

DYNAMIC_RANGE = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * DYNAMIC_RANGE) ** 2
SSIM_C2 = (0.03 * DYNAMIC_RANGE) ** 2
#: PSNR reported for identical frames (MSE 0 would be infinite, which JSON cannot hold).
PSNR_CAP_DB = 100.0


def compute_mse(a: GreyImage, b: GreyImage) -> float:
    """Mean squared difference of two same-size grey images (grey levels squared)."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(diff * diff))


def psnr_from_mse(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit images, capped at ``PSNR_CAP_DB``."""
    if mse <= 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * math.log10(DYNAMIC_RANGE**2 / mse))


def _blur(image: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return cv2.GaussianBlur(
        image, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT
    )


def compute_ssim(a: GreyImage, b: GreyImage) -> float:
    """Mean SSIM of two same-size grey images (see the module docstring)."""
    if a.shape != b.shape:
        raise ValueError(f"SSIM needs equal shapes, got {a.shape} and {b.shape}")
    x, y = a.astype(np.float64), b.astype(np.float64)
    mu_x, mu_y = _blur(x), _blur(y)
    var_x = _blur(x * x) - mu_x * mu_x
    var_y = _blur(y * y) - mu_y * mu_y
    cov = _blur(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + SSIM_C1) * (var_x + var_y + SSIM_C2)
    ssim_map = numerator / denominator
    pad = SSIM_WINDOW // 2
    if ssim_map.shape[0] > 2 * pad and ssim_map.shape[1] > 2 * pad:
        ssim_map = ssim_map[pad:-pad, pad:-pad]
    return float(ssim_map.mean())


def match_size(image: GreyImage, shape: tuple[int, ...]) -> GreyImage:
    """Resize ``image`` to ``shape`` (rows, cols) when it differs (INTER_AREA)."""
    if image.shape[:2] == shape[:2]:
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
