"""A real SMTP server for pswatch's tests, built on aiosmtpd.

Usage: smtp_sink.py DIRECTORY [--auth USER:PASSWORD]

Listens on 127.0.0.1 at a free port, prints "READY <port>" on its first line, and writes each
message it accepts to DIRECTORY/NNNN.eml, whole (renamed into place, so a reader never sees half
a message). Recipients starting with "reject-permanent@" get 550 and "reject-transient@" get 451.
It runs until it is killed.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject-permanent@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("reject-transient@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, "%04d.eml" % self.count)
        with open(path + ".tmp", "wb") as message:
            message.write(b"X-Sink-Mail-From: " + envelope.mail_from.encode() + b"\r\n")
            message.write(b"X-Sink-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            if session.authenticated:
                message.write(b"X-Sink-Authenticated: yes\r\n")
            message.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def authenticator_for(credentials):
    user, password = credentials.split(":", 1)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok)

    return authenticate


async def main():
    directory = sys.argv[1]
    credentials = None
    if len(sys.argv) > 3 and sys.argv[2] == "--auth":
        credentials = sys.argv[3]
    handler = Handler(directory)

    def factory():
        if credentials:
            return SMTP(
                handler,
                authenticator=authenticator_for(credentials),
                auth_required=True,
                auth_require_tls=False,
            )
        return SMTP(handler)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
