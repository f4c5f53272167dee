// Checks Adaptive Cards with Microsoft's Adaptive Cards SDK (the adaptivecards npm package).
//
// Usage: node adaptive_card.js NODE_MODULES < cards.jsonl
// Reads one card per line on standard input (a card, or a Teams message whose attachments hold
// cards) and prints one line per problem, "<line number>: <problem>", from parsing and from
// validateProperties(). Exit status 0 when every card is valid.
"use strict";

const path = require("path");
const readline = require("readline");

const AdaptiveCards = require(path.join(process.argv[2], "adaptivecards", "dist", "adaptivecards.js"));

function cardsOf(json) {
  if (json && json.type === "message" && Array.isArray(json.attachments)) {
    return json.attachments.map((attachment) => {
      if (attachment.contentType !== "application/vnd.microsoft.card.adaptive") {
        throw new Error(`attachment of type ${attachment.contentType}`);
      }
      return attachment.content;
    });
  }
  return [json];
}

function problemsOf(json) {
  const problems = [];
  for (const content of cardsOf(json)) {
    if (!content || content.type !== "AdaptiveCard") {
      problems.push("not an AdaptiveCard");
      continue;
    }
    const card = new AdaptiveCards.AdaptiveCard();
    const context = new AdaptiveCards.SerializationContext();
    card.parse(content, context);
    for (let index = 0; index < context.eventCount; index++) {
      problems.push("parse: " + context.getEventAt(index).message);
    }
    for (const event of card.validateProperties().validationEvents) {
      problems.push("validate: " + event.message);
    }
  }
  return problems;
}

let failed = false;
let number = 0;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  number += 1;
  if (!line.trim()) return;
  let problems;
  try {
    problems = problemsOf(JSON.parse(line));
  } catch (error) {
    problems = [String(error)];
  }
  for (const problem of problems) {
    failed = true;
    console.log(`${number}: ${problem}`);
  }
}).on("close", () => process.exit(failed ? 1 : 0));
