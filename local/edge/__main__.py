"""``python -m local.edge [--log FILE]``: serve the locally deployed site and API.

Run without ``ENV`` (the local environment) after ``make up`` (``local/edge.sh``
does both). Refuses (exit 2) an environment deployed to AWS or a missing
deployment; exit 1 when a port is taken. Prints one line when both servers
listen, and runs until SIGTERM or SIGINT, which stop the function workers too.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from config.settings import ConfigError, load_config
from local.edge.deployment.errors import DeploymentError
from local.edge.deployment.outputs import Outputs
from local.edge.server import Edge, EdgeLog, serve_until


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.edge", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--log",
        type=Path,
        help="the request log (default: <emulator_state_dir>/logs/edge.log); the functions log beside it",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as error:
        print(f"edge: {error}", file=sys.stderr)
        return 2
    if not config.is_local:
        print(
            f"edge: it serves the local deployment only, not {config.environment}'s: run it without ENV",
            file=sys.stderr,
        )
        return 2
    try:
        Outputs.read(config.emulator_outputs_file)
    except DeploymentError as error:
        print(f"edge: nothing to serve: {error}", file=sys.stderr)
        return 2
    log = EdgeLog(args.log or config.emulator_state_dir / "logs" / "edge.log")
    # The functions' own log lines (CloudWatch Logs' part) beside the request log, not in it.
    function_log = EdgeLog(log.path.with_name("functions.log"))
    edge = Edge(config, log, function_log)
    try:
        edge.bind()
    except OSError as error:
        print(f"edge: {error.strerror}; another program holds the port (see site_port and api_port)", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    edge.serve()
    site = f"http://localhost:{config.site_port}/"
    api = f"http://localhost:{config.api_port}/{config.api_stage_name}"
    log.note(f"serving the site at {site} and the API at {api} (pid {os.getpid()})")
    print(f"edge: site {site} · api {api} (pid {os.getpid()})", flush=True)
    serve_until(edge, stop.wait)
    log.note("stopped")
    log.close()
    function_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
