#!/usr/bin/env python3
"""A client-credentials OAuth2 token endpoint for the auth extension tests.

Listens on 127.0.0.1 (a free port), prints "listening on <port>" once ready, and answers
every POST with a new token "token-<n>" that expires after --expires-in seconds. It checks
the grant type and the client credentials (form fields or HTTP basic) and refuses others.
"""
import argparse
import base64
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--expires-in", type=int, default=3600)
    options = parser.parse_args()
    issued = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            client_id = form.get("client_id", [""])[0]
            client_secret = form.get("client_secret", [""])[0]
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                decoded = base64.b64decode(basic[6:]).decode()
                client_id, _, client_secret = decoded.partition(":")
                client_id = urllib.parse.unquote_plus(client_id)
                client_secret = urllib.parse.unquote_plus(client_secret)
            if (form.get("grant_type", [""])[0] != "client_credentials"
                    or client_id != options.client_id
                    or client_secret != options.client_secret):
                self.send_response(401)
                self.end_headers()
                return
            issued[0] += 1
            print("issued token-%d" % issued[0], flush=True)
            body = json.dumps({"access_token": "token-%d" % issued[0], "token_type": "Bearer",
                               "expires_in": options.expires_in}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
