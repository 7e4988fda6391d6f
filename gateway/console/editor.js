// A plain <textarea> as a code editor: Tab and Shift+Tab indent and dedent (the line, or every selected
// line), Enter keeps the line's indentation (one level more after a ':'). Esc then Tab leaves the editor,
// so keyboard users are never trapped in it.

const INDENT = '    ';

export function codeEditor(textarea) {
  let released = false;
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      released = true;
      return;
    }
    if (['Shift', 'Control', 'Alt', 'Meta'].includes(event.key)) return;
    const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
    if (event.key === 'Tab' && plain && !released) {
      event.preventDefault();
      if (event.shiftKey) dedent(textarea);
      else indent(textarea);
    } else if (event.key === 'Enter' && plain && !event.shiftKey) {
      event.preventDefault();
      newline(textarea);
    }
    released = false;
  });
}

function insert(textarea, text) {
  // execCommand keeps the browser's undo history; setRangeText is the fallback where it is gone
  if (!document.execCommand('insertText', false, text)) {
    textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, 'end');
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

function selectedLines(textarea) {
  const { value, selectionStart: start } = textarea;
  let end = textarea.selectionEnd;
  if (end > start && value[end - 1] === '\n') end -= 1; // a selection ending at a line start leaves that line
  const from = value.lastIndexOf('\n', start - 1) + 1;
  const newline = value.indexOf('\n', end);
  const to = newline === -1 ? value.length : newline;
  return { from, to, lines: value.slice(from, to).split('\n') };
}

function replaceLines(textarea, from, to, lines) {
  const text = lines.join('\n');
  textarea.setSelectionRange(from, to);
  insert(textarea, text);
  textarea.setSelectionRange(from, from + text.length);
}

function indent(textarea) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  if (!value.slice(start, end).includes('\n')) {
    insert(textarea, INDENT);
    return;
  }
  const { from, to, lines } = selectedLines(textarea);
  replaceLines(textarea, from, to, lines.map((line) => (line ? INDENT + line : line)));
}

function dedent(textarea) {
  const { from, to, lines } = selectedLines(textarea);
  const dedented = lines.map((line) => line.replace(/^ {1,4}|^\t/, ''));
  if (dedented.join('\n') === lines.join('\n')) return;
  const single = !textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).includes('\n');
  const caret = Math.max(from, textarea.selectionStart - (lines[0].length - dedented[0].length));
  replaceLines(textarea, from, to, dedented);
  if (single) textarea.setSelectionRange(caret, caret);
}

function newline(textarea) {
  const { value, selectionStart: start } = textarea;
  const line = value.slice(value.lastIndexOf('\n', start - 1) + 1, start);
  const leading = line.match(/^[ \t]*/)[0];
  insert(textarea, `\n${leading}${line.trimEnd().endsWith(':') ? INDENT : ''}`);
}
