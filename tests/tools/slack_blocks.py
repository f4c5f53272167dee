"""Checks Slack messages with Slack's own SDK (slack-sdk's Block Kit models).

Reads one JSON message ({"text", "blocks", ...}) per line on standard input and prints one
line per problem, "<line number>: <problem>". Exit status 0 when every message is valid.
"""

import json
import sys

from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_TEXT = 40000


def problems_of(message):
    if not isinstance(message, dict):
        yield "not a JSON object"
        return
    text = message.get("text")
    blocks = message.get("blocks")
    if not text and not blocks:
        yield "neither text nor blocks"
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        yield "text is not a string of at most %d characters" % MAX_TEXT
    if blocks is None:
        return
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        yield "blocks is not a list of at most %d blocks" % MAX_BLOCKS
        return
    for index, (raw, block) in enumerate(zip(blocks, Block.parse_all(blocks))):
        if block is None:
            yield "block %d: unknown block %r" % (index, raw.get("type"))
            continue
        try:
            block.validate_json()
        except Exception as error:  # slack-sdk raises SlackObjectFormationError and others
            yield "block %d (%s): %s" % (index, raw.get("type"), error)


def main():
    failed = False
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        for problem in problems_of(json.loads(line)):
            failed = True
            print("%d: %s" % (number, problem))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
