"""Checks Google Chat messages with Google's own client library (google-apps-chat's Message
type, generated from the Chat API's definitions).

Reads one JSON message ({"text", "cardsV2", ...}) per line on standard input and prints one
line per problem, "<line number>: <problem>". Exit status 0 when every message is valid. A
field the API does not define, or a value of the wrong type, is a problem, as is a message
past the API's 32,000 bytes or one with neither text nor cards.
"""

import json
import sys

from google.apps import chat_v1

MAX_BYTES = 32000


def problems_of(line):
    try:
        message = json.loads(line)
    except ValueError as error:
        yield "not JSON: %s" % error
        return
    if not isinstance(message, dict):
        yield "not a JSON object"
        return
    if not message.get("text") and not message.get("cardsV2"):
        yield "neither text nor cardsV2"
    size = len(line.encode("utf-8"))
    if size > MAX_BYTES:
        yield "%d bytes, more than the %d a message may have" % (size, MAX_BYTES)
    try:
        parsed = chat_v1.Message.from_json(line)
    except Exception as error:  # protobuf's ParseError and proto-plus's errors
        yield str(error).splitlines()[0]
        return
    for index, card in enumerate(parsed.cards_v2):
        if not card.card.sections:
            yield "cardsV2[%d]: a card without sections" % index


def main():
    failed = False
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        for problem in problems_of(line):
            failed = True
            print("%d: %s" % (number, problem))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
