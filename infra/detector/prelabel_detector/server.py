"""Local endpoint: the SageMaker container contract plus the SageMaker Runtime API route.

python -m prelabel_detector.server --port 8080            # default SSD-MobileNet-v2-COCO
AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://127.0.0.1:8080   # then boto3 invoke_endpoint works
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prelabel.detector_wire import JSON_CONTENT_TYPE, MAX_BODY_BYTES, RequestError
from prelabel_detector import handler
from prelabel_detector.descriptor import DEFAULT_DESCRIPTOR, DESCRIPTOR_NAME, Descriptor, bundled

LOG = logging.getLogger("prelabel_detector.server")
RUNTIME_ROUTE = re.compile(r"^/endpoints/([^/]+)/invocations$")
DEFAULT_ENDPOINT = "prelabel-detector"
# SageMaker Runtime reports a failing container as ModelError with HTTP 424 (Failed Dependency).
MODEL_ERROR_STATUS = 424
DRAIN_LIMIT = 4 * MAX_BODY_BYTES


class DetectorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Lambda workers open many connections at once; the default backlog of 5 drops some.
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], model: handler.LoadedModel, endpoint_name: str
    ) -> None:
        super().__init__(address, _Handler)
        self.model = model
        self.endpoint_name = endpoint_name

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive: boto3 and the worker reuse connections.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, delayed ACKs stall each response.
    disable_nagle_algorithm = True
    server: DetectorServer

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/ping":
            self._send(HTTPStatus.OK, b"", "text/plain")
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "NotFound", f"no route GET {self.path}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path == "/invocations":
            self._container_invocation()
            return
        match = RUNTIME_ROUTE.match(path)
        if match is None:
            self._send_error(HTTPStatus.NOT_FOUND, "NotFound", f"no route POST {self.path}")
        elif match.group(1) != self.server.endpoint_name:
            self._send_error(
                HTTPStatus.BAD_REQUEST,
                "ValidationError",
                f"Endpoint {match.group(1)} of account 000000000000 not found.",
            )
        else:
            self._runtime_invocation()

    def _container_invocation(self) -> None:
        body = self._read_body()
        if body is None:
            return
        status, payload = self._invoke(body)
        if status == HTTPStatus.OK:
            self._send(status, payload, JSON_CONTENT_TYPE)
        else:
            self._send(status, payload, JSON_CONTENT_TYPE, close=status >= 500)

    def _runtime_invocation(self) -> None:
        body = self._read_body()
        if body is None:
            return
        status, payload = self._invoke(body)
        if status == HTTPStatus.OK:
            headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
            self._send(status, payload, JSON_CONTENT_TYPE, extra=headers)
            return
        original = json.loads(payload)["message"]
        kind = "client" if status < 500 else "server"
        message = (
            f"Received {kind} error ({status}) from primary with message "
            f'"{original}". See the local server log for details.'
        )
        # Shaped as AWS sends it, so botocore raises SageMakerRuntime.Client.exceptions.ModelError
        # with OriginalStatusCode/OriginalMessage filled in.
        doc = {
            "message": message,
            "OriginalStatusCode": int(status),
            "OriginalMessage": original,
            "LogStreamArn": "local",
        }
        self._send(
            MODEL_ERROR_STATUS,
            json.dumps(doc).encode(),
            JSON_CONTENT_TYPE,
            extra={"x-amzn-ErrorType": "ModelError"},
        )

    def _invoke(self, body: bytes) -> tuple[int, bytes]:
        try:
            batch = handler.input_fn(body, self.headers.get("Content-Type"))
            prediction = handler.predict_fn(batch, self.server.model)
            return HTTPStatus.OK, handler.output_fn(prediction, self.headers.get("Accept"))
        except RequestError as exc:
            return exc.status_code, json.dumps({"message": str(exc)}).encode()
        except Exception:
            # Whatever one request does, the server stays up for the next one.
            LOG.exception("invocation failed")
            doc = {"message": "internal error in the model server"}
            return HTTPStatus.INTERNAL_SERVER_ERROR, json.dumps(doc).encode()

    def _read_body(self) -> bytes | None:
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._send_error(
                HTTPStatus.LENGTH_REQUIRED, "ValidationError", "Content-Length is required"
            )
            return None
        if length > MAX_BODY_BYTES:
            # Draining a moderately oversized body lets the client read the answer instead of
            # seeing a reset; beyond that the connection is simply closed.
            if length <= DRAIN_LIMIT:
                self.rfile.read(length)
            self._send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "ValidationError",
                f"Request body of {length} bytes exceeds the {MAX_BODY_BYTES} byte limit.",
                close=True,
            )
            return None
        return self.rfile.read(length)

    def _send_error(self, status: int, kind: str, message: str, close: bool = False) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(status, body, JSON_CONTENT_TYPE, extra={"x-amzn-ErrorType": kind}, close=close)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


def serve_in_thread(server: DetectorServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="detector-server", daemon=True)
    thread.start()
    return thread


def load_descriptor(args: argparse.Namespace) -> Descriptor:
    if args.model_dir is not None:
        return Descriptor.load(Path(args.model_dir) / DESCRIPTOR_NAME)
    weights = Path(args.weights_dir) if args.weights_dir else None
    return Descriptor.load(Path(args.descriptor), weights)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--endpoint-name", default=DEFAULT_ENDPOINT)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model-dir", help="folder laid out like model.tar.gz (descriptor.json)")
    source.add_argument("--descriptor", default=str(bundled(DEFAULT_DESCRIPTOR)))
    parser.add_argument("--weights-dir", help="where the descriptor's weights lie")
    parser.add_argument("--threads", type=int, default=None, help="inference threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    model = handler.load_model(load_descriptor(args), args.threads)
    server = DetectorServer((args.host, args.port), model, args.endpoint_name)
    LOG.info("serving %s on %s as %s", model.descriptor.name, server.url, server.endpoint_name)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
