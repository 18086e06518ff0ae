"""How a CPU thread waits for the GPU: spin (CUDA's default here) or sleep until woken.

CUDA's default policy (``CU_CTX_SCHED_AUTO``) spins a whole core in every synchronising call
while a process has fewer contexts than the host has CPUs, which is always the case for one
pipeline worker per process. With a dozen workers sharing one GPU (MPS), each waiting thread
would burn a core that decoding needs. ``BLOCK`` asks the driver to put the thread to sleep on
an interrupt instead (``CU_CTX_SCHED_BLOCKING_SYNC``): tens of microseconds more latency per
wait, nothing for a 128-frame batch.

The flag lives on the device's primary context (the one PyTorch uses), so it is set through the
driver API with ``ctypes``; the ``_v2`` entry point may be called while the context is active.
"""

from __future__ import annotations

import ctypes
import enum
import logging

log = logging.getLogger("voxrepro")

#: Driver API scheduling flags (cuda.h, CUctx_flags).
SCHED_FLAGS = {"auto": 0x00, "spin": 0x01, "yield": 0x02, "block": 0x04}
SCHED_MASK = 0x07


class CudaWait(enum.StrEnum):
    AUTO = "auto"  # CUDA's heuristic: spin while contexts < CPUs
    SPIN = "spin"
    YIELD = "yield"
    BLOCK = "block"


def _driver() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None


def _device(driver: ctypes.CDLL, device_index: int) -> ctypes.c_int | None:
    """The driver's handle of ``cuda:device_index`` (initialising the driver), or None."""
    device = ctypes.c_int()
    if driver.cuInit(0) != 0 or driver.cuDeviceGet(ctypes.byref(device), device_index) != 0:
        return None
    return device


def set_cuda_wait(policy: CudaWait | str, device_index: int = 0) -> bool:
    """Set how this process's threads wait on ``cuda:device_index``.

    Returns:
        True when the driver accepted the flag; False without a CUDA driver (CPU machines) or
        when the driver refused (the default policy then stays, logged at debug level).

    Raises:
        ValueError: an unknown policy name.
    """
    flag = SCHED_FLAGS[CudaWait(policy).value]
    driver = _driver()
    device = _device(driver, device_index) if driver is not None else None
    if driver is None or device is None:
        return False
    setter = getattr(driver, "cuDevicePrimaryCtxSetFlags_v2", None) or getattr(
        driver, "cuDevicePrimaryCtxSetFlags", None
    )
    if setter is None:
        return False
    status = setter(device, ctypes.c_uint(flag))
    if status != 0:
        log.debug("cuDevicePrimaryCtxSetFlags(%#x) refused with CUresult %d", flag, status)
        return False
    return True


def get_cuda_wait(device_index: int = 0) -> CudaWait | None:
    """The wait policy of the primary context of ``cuda:device_index`` (None without CUDA)."""
    driver = _driver()
    device = _device(driver, device_index) if driver is not None else None
    if driver is None or device is None:
        return None
    flags, active = ctypes.c_uint(), ctypes.c_int()
    if driver.cuDevicePrimaryCtxGetState(device, ctypes.byref(flags), ctypes.byref(active)):
        return None
    by_flag = {value: CudaWait(name) for name, value in SCHED_FLAGS.items()}
    return by_flag.get(flags.value & SCHED_MASK)


__all__ = ["CudaWait", "get_cuda_wait", "set_cuda_wait"]
