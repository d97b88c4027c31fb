"""Joining a Ray cluster for a build: which cluster (``executor.address``), one line saying which, and
Ray's own output (log lines, warnings, what it prints for its workers) kept out of the build's output
unless ``executor.verbose=true``.

A lost worker is told apart from a worker's own error by the exception ``ray.get`` raises
(:func:`lost_errors`) and described in a few words (:func:`describe_loss`) for the executor's one line.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import warnings

from .errors import ConfigError

CLIENT_PORT, GCS_PORT = 10001, 6379  # Ray's defaults: Ray Client server, cluster (GCS) address


def connect(ray, address: str, num_cpus: int | None, verbose: bool) -> str:
    """Connect this process to the cluster ``address`` names: ``auto`` joins the cluster ``ray start``
    recorded on this machine (or ``RAY_ADDRESS``) and starts a local one if none answers; ``local``
    starts a private one; anything else (``host:port``, ``ray://host:port``) must answer, or it is a
    one-line :class:`ConfigError`. Returns the line that says what happened."""
    quiet = {} if verbose else {"logging_level": "error", "log_to_driver": False}
    start = {"address": "local", "num_cpus": num_cpus, "include_dashboard": False, **quiet}
    cpus = lambda: int(ray.cluster_resources().get("CPU", 0))  # noqa: E731
    if address == "auto" and not os.environ.get("RAY_ADDRESS"):
        recorded = recorded_address()
        if recorded and unreachable(recorded, GCS_PORT) is None:
            _init(ray, verbose, address="auto", **quiet)  # "auto", not the address: Ray then uses the local token
            return f"ray: joined the cluster at {recorded} ({cpus()} CPUs)"
        _init(ray, verbose, **start)
        stale = f" (the one recorded at {recorded} does not answer)" if recorded else ""
        return f"ray: no running cluster found{stale}; started a local one with {cpus()} CPUs for this build"
    if address == "local":
        _init(ray, verbose, **start)
        return f"ray: started a private local cluster with {cpus()} CPUs for this build"
    target = os.environ["RAY_ADDRESS"] if address == "auto" else address
    key = f"executor.address={address}" + (f" (RAY_ADDRESS={target})" if target != address else "")
    client = target.startswith("ray://")
    host, port = host_port(target.removeprefix("ray://"), CLIENT_PORT if client else GCS_PORT)
    why = unreachable(f"{host}:{port}", port)
    if why is not None and client:
        raise ConfigError(f"{key}: nothing answers at {host}:{port} ({why}); check that the head runs Ray's client "
                          f"server on that port (`ray start --head --ray-client-server-port={port}`) and that the "
                          "port is open from this machine")
    if why is not None:
        raise ConfigError(f"{key}: no Ray cluster answers at {host}:{port} ({why}); start one with `ray start "
                          "--head`, or use executor.address=auto (joins this machine's cluster or starts one) "
                          "or executor.address=local")
    try:
        _init(ray, verbose, address=target, **quiet)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError, ray.exceptions.RayError) as e:
        first = (str(e).strip() or type(e).__name__).splitlines()[0]
        auth = ("; a cluster with token auth (Ray 2.60's default) needs RAY_AUTH_MODE=token and "
                "RAY_AUTH_TOKEN=<the head's ~/.ray/auth_token> set here"
                if os.environ.get("RAY_AUTH_MODE") != "token" else "")
        raise ConfigError(f"{key}: {host}:{port} accepts connections but joining the Ray cluster there failed "
                          f"({first}){auth}") from None
    return f"ray: joined the cluster at {target} ({cpus()} CPUs)"


def _init(ray, verbose: bool, **kwargs) -> None:
    """``ray.init``, keeping this process's SIGTERM handler (Ray installs one that exits at once, which
    would bypass synth's clean stop) and, unless ``verbose``, Ray's Python warnings out of the output."""
    term = signal.getsignal(signal.SIGTERM)
    try:
        with warnings.catch_warnings():
            if not verbose:
                warnings.simplefilter("ignore")
            ray.init(**kwargs)
    finally:
        if callable(term) and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, term)


def recorded_address() -> str | None:
    """The cluster ``ray start`` last recorded on this machine (``<RAY_TMPDIR or /tmp>/ray/ray_current_cluster``;
    Ray's own "auto" also joins any cluster it finds in the process list, e.g. another program's private one)."""
    try:
        from ray._private.utils import read_ray_address
        return read_ray_address()
    except (ImportError, OSError):
        return None


def host_port(address: str, default_port: int) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        host, port = address, str(default_port)
    return host.strip("[]") or "127.0.0.1", int(port)


def unreachable(address: str, default_port: int, timeout: float = 5.0) -> str | None:
    """None if ``host:port`` accepts a TCP connection within ``timeout`` s, else why not, in a few words
    (Ray's client retries for ~30 s and then says only "ray client connection timeout")."""
    host, port = host_port(address, default_port)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror:
        return f"host {host} not found"
    except TimeoutError:
        return f"no answer within {timeout:.0f} s"
    except OSError as e:
        return e.strerror.lower() if e.strerror else type(e).__name__
    return None


def quiet_worker_logs(ray, quiet: bool):
    """Keep what Ray prints on the driver for its workers and raylets (e.g. "(raylet) A worker died or was
    killed ...", beside synth's own line for a lost worker) out of the output; returns what undoes it, or
    None. Ray's error listener has no switch: it prints unless worker logs are off, the flag Ray's
    debugger turns off while it runs."""
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    if not quiet or not hasattr(worker, "_worker_logs_enabled"):
        return None
    old, worker._worker_logs_enabled = worker._worker_logs_enabled, False

    def undo() -> None:
        worker._worker_logs_enabled = old
    return undo


def lost_errors(ray) -> tuple[type, ...]:
    """What ``ray.get`` of a chunk raises when its worker failed, not the chunk: the actor died or cannot
    be reached (ActorDiedError, ActorUnavailableError), its process crashed or was killed for memory,
    its node died, or the result was lost with the node (ObjectLostError, OwnerDiedError)."""
    ex = ray.exceptions
    return (ex.RayActorError, ex.WorkerCrashedError, ex.NodeDiedError, ex.LocalRayletDiedError,
            ex.OutOfMemoryError, ex.ObjectLostError)


def describe_loss(error: BaseException) -> str:
    """What happened to a lost worker, in a few words (e.g. "its worker process has died")."""
    import ray
    ex = ray.exceptions
    if isinstance(error, ex.ActorDiedError):
        why = re.search(r"because (.+?)\.(\s|$)", str(error))
        return (why.group(1) if why else "it died") + (" (its node was preempted)" if error.preempted else "")
    unreachable = "it stopped answering (its process or node died, or the network failed)"
    for kind, what in ((ex.ActorUnavailableError, unreachable),
                       (ex.OutOfMemoryError, "Ray's memory monitor killed it (its node ran low on memory)"),
                       (ex.NodeDiedError, "its node died"), (ex.WorkerCrashedError, "its process crashed"),
                       (ex.LocalRayletDiedError, "its node's raylet died"),
                       (ex.ObjectLostError, "its result was lost with its node")):
        if isinstance(error, kind):
            return what
    return type(error).__name__
