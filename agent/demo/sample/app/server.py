"""HTTP handlers for the inventory API."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import db


class InventoryHandler(BaseHTTPRequestHandler):
    conn = None  # set by make_server

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def send_json(self, status: int, body) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        elif self.path == "/items":
            self.send_json(200, db.list_items(self.conn))
        else:
            self.send_json(404, {"error": "not found"})


def make_server(port: int = 0, db_path: str = ":memory:") -> ThreadingHTTPServer:
    handler = type("Handler", (InventoryHandler,), {"conn": db.connect(db_path)})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


if __name__ == "__main__":
    server = make_server(8000, "inventory.db")
    print("listening on http://127.0.0.1:8000")
    server.serve_forever()
