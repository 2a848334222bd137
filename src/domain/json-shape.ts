// Bounds the cost of JSON.parse before paying it. JSON.parse runs on the event loop and its cost
// follows the shape of the text more than its length: a value nested a million arrays deep or
// half a million empty arrays side by side stall every other request for hundreds of
// milliseconds. One pass over the text, allocating nothing, counts nesting depth, values and object
// keys, and refuses a text over any limit; what passes parses in bounded time.
//
// The pass only has to be right about valid JSON: string contents (with their escapes) are
// skipped, so brackets and quotes inside strings count for nothing. Text that is not JSON is
// left to JSON.parse to refuse; the counts still bound how far it gets.

import { invalid } from './errors.js';

export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects inside each other. */
  maxDepth: number;
  /** Most values: objects, arrays, strings (object keys included), numbers, true, false, null. */
  maxValues: number;
  /**
   * Most object keys, all objects together. A key costs several times what another value does:
   * JSON.parse stores the keys of a large object in a hash table, and every later walk over them
   * pays again.
   */
  maxKeys: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Throws `invalid` if `json` nests deeper or holds more values than `limits` allow. `what` names
 * the text in the message ("the publish metadata").
 */
export function assertJsonShape(json: string, limits: JsonShapeLimits, what: string): void {
  let depth = 0;
  let values = 0;
  let keys = 0;
  let inString = false;
  // Inside a number or literal (true, false, null): its later characters start no new value.
  let inScalar = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH)
        i++; // the escaped character, a quote or backslash included, is content
      else if (c === QUOTE) inString = false;
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        inScalar = false;
        values++;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        inScalar = false;
        values++;
        if (++depth > limits.maxDepth) {
          throw invalid(
            'json-too-deep',
            `${what} nests arrays and objects more than ${limits.maxDepth} levels deep; at most ${limits.maxDepth} are allowed`,
          );
        }
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        inScalar = false;
        depth--;
        break;
      case COLON:
        inScalar = false;
        if (++keys > limits.maxKeys) {
          throw invalid('json-too-many-keys', `${what} has more than ${limits.maxKeys} object keys; at most ${limits.maxKeys} are allowed`);
        }
        break;
      case COMMA:
      case SPACE:
      case TAB:
      case LINE_FEED:
      case CARRIAGE_RETURN:
        inScalar = false;
        break;
      default:
        if (inScalar) continue;
        inScalar = true;
        values++;
    }
    if (values > limits.maxValues) {
      throw invalid(
        'json-too-many-values',
        `${what} has more than ${limits.maxValues} JSON values (strings, numbers, arrays, objects and keys); at most ${limits.maxValues} are allowed`,
      );
    }
  }
}
