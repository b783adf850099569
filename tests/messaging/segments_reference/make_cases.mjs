// Writes what Twilio's segment calculator says about each text in texts.json, for
// tests/messaging/test_sms_segments.py to hold the portal's own count to.
//
//   npm ci && node make_cases.mjs [texts.json] [cases.json]
//
// Paths default to the files beside this script. Smart encoding stays off, as in the portal.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { SegmentedMessage } = require('sms-segments-calculator');
const { version } = require('sms-segments-calculator/package.json');

const textsPath = process.argv[2] ?? join(here, 'texts.json');
const casesPath = process.argv[3] ?? join(here, 'cases.json');

const cases = JSON.parse(readFileSync(textsPath, 'utf8')).map(({ name, text }) => {
  const message = new SegmentedMessage(text, 'auto', false);
  return {
    name,
    text,
    segmentsCount: message.segmentsCount,
    encodingName: message.encodingName,
    // septets in GSM-7; grapheme clusters (user-perceived characters) in UCS-2
    numberOfCharacters: message.numberOfCharacters,
    numberOfUnicodeScalars: message.numberOfUnicodeScalars,
    // bits of text in all segments, without the headers that join a split text
    messageSize: message.messageSize,
  };
});

const calculator = `sms-segments-calculator@${version}`;
writeFileSync(casesPath, `${JSON.stringify({ calculator, cases }, null, 2)}\n`);
console.log(`${cases.length} cases from ${calculator} written to ${casesPath}`);
