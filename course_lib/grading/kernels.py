"""How the course starts Jupyter kernels: with their connection encrypted.

``make check``, nbgrader (``autograde``, ``validate``) and ``make notebooks`` start
kernels through jupyter_client. ipykernel warns at every start of a kernel whose
connection is plain TCP ("Kernel is running over TCP without encryption"), which
``make check`` would print for every notebook. The fix it names: the kernel manager
provisions CurveZMQ keys for kernels whose kernelspec declares support (ipykernel's
does, ``"supported_encryption": ["curve"]``), and the kernel and its client then talk
encrypted over TCP, on every platform. Where pyzmq or jupyter_client cannot do it,
kernels run as before (and the warning may show).

Every course kernel also runs with hash seed 0 (``PYTHONHASHSEED``), set by whoever
starts it: see :mod:`course_lib.grading.scoring` and ``nbgrader_config.py``.
"""

from __future__ import annotations

from typing import Any


def kernel_settings() -> dict[str, Any]:
    """Return the ``KernelManager`` settings that start kernels with encrypted connections.

    ``{"transport_encryption": "auto"}`` when pyzmq has CurveZMQ and jupyter_client
    can provision keys; else ``{}`` (nothing to change).
    """
    import zmq
    from jupyter_client.manager import KernelManager

    if zmq.has("curve") and "transport_encryption" in KernelManager.class_trait_names():
        return {"transport_encryption": "auto"}
    return {}


def kernel_config() -> Any:
    """Return a traitlets configuration with :func:`kernel_settings` for ``KernelManager``.

    Pass it as ``config=`` to an nbclient ``NotebookClient``.
    """
    from traitlets.config import Config

    config = Config()
    for name, value in kernel_settings().items():
        setattr(config.KernelManager, name, value)
    return config
