// Where a JSON text first goes wrong, said without quoting it: JSON.parse's own messages quote the
// text around the error ("..."ssphrase":'S3cr3t-hu"...), and a config file may hold a passphrase.
// Run only after JSON.parse has failed; iterative, so deep nesting cannot overflow the stack.

export interface JsonSyntaxError {
  /** 1-based line and column (in UTF-16 code units) of the first character that is wrong. */
  line: number;
  column: number;
  what: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  let i = 0;
  const stack: Array<'[' | '{'> = [];
  const fail = (what: string): JsonSyntaxError => {
    let line = 1;
    let start = 0;
    for (let k = 0; k < i; k++) if (text.charCodeAt(k) === 10) (line++, (start = k + 1));
    return { line, column: i - start + 1, what: i >= n ? 'the text ends too early' : what };
  };
  const skip = () => {
    while (i < n && WS.has(text[i]!)) i++;
  };
  /** Reads a string at i; undefined when it is well formed. */
  const string = (): string | undefined => {
    if (text[i] !== '"') return 'a string was expected (in double quotes)';
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) return 'a control character (such as a line break) inside a string';
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return (i++, 'a bad \\u escape in a string');
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else return (i++, 'a bad escape in a string');
      } else i++;
    }
    return 'a string is not closed';
  };
  // One step of a state machine per token, with the open containers on a stack: no recursion.
  let state: 'value' | 'key' | 'after' = 'value';
  let bad: string | undefined;
  skip();
  while (bad === undefined) {
    if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        skip();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          state = 'after';
        } else {
          stack.push(c);
          state = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      state = 'after';
      if (c === '"') bad = string();
      else if (text.startsWith('true', i) || text.startsWith('null', i)) i += 4;
      else if (text.startsWith('false', i)) i += 5;
      else {
        NUMBER.lastIndex = i;
        if (NUMBER.test(text)) i = NUMBER.lastIndex;
        else bad = 'a value was expected (a string in double quotes, a number, true, false, null, an object or an array)';
      }
    } else if (state === 'key') {
      bad = string();
      if (bad === 'a string was expected (in double quotes)') bad = 'a property name in double quotes was expected';
      if (bad !== undefined) break;
      skip();
      if (text[i] !== ':') bad = 'a ":" was expected after the property name';
      else {
        i++;
        skip();
        state = 'value';
      }
    } else {
      skip();
      const top = stack.at(-1);
      if (top === undefined) {
        if (i < n) bad = 'more text after the end of the JSON value';
        break;
      }
      const close = top === '{' ? '}' : ']';
      if (text[i] === close) {
        stack.pop();
        i++;
      } else if (text[i] === ',') {
        i++;
        skip();
        state = top === '{' ? 'key' : 'value';
      } else bad = `a "," or "${close}" was expected`;
    }
  }
  return bad === undefined ? undefined : fail(bad);
}
