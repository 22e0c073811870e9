// Study notes are Markdown; they are turned into DOM nodes here (headings,
// lists, paragraphs, emphasis, code), every piece of text set as text: no
// HTML from the API is ever inserted.
import { h } from './dom.js';

function inline(text) {
  const out = [];
  const re = /(\*\*[^*]+\*\*|__[^_]+__|`[^`]+`|\*[^*\s][^*]*\*|_[^_\s][^_]*_)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    if (t.startsWith('**') || t.startsWith('__')) out.push(h('strong', t.slice(2, -2)));
    else if (t.startsWith('`')) out.push(h('code', t.slice(1, -1)));
    else out.push(h('em', t.slice(1, -1)));
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function renderMarkdown(src, baseLevel = 2) {
  const root = h('div.markdown');
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  let stack = []; // open lists: {indent, el}
  const flush = () => {
    if (para.length) root.append(h('p', inline(para.join(' '))));
    para = [];
  };
  const closeLists = () => { stack = []; };
  for (const line of lines) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (heading) {
      flush(); closeLists();
      const level = Math.min(6, heading[1].length - 1 + baseLevel);
      root.append(h(`h${level}`, inline(heading[2].replace(/\s*#+\s*$/, ''))));
    } else if (item) {
      flush();
      const indent = item[1].replace(/\t/g, '    ').length;
      const ordered = /\d/.test(item[2]);
      while (stack.length && stack[stack.length - 1].indent > indent) stack.pop();
      let top = stack[stack.length - 1];
      if (!top || top.indent < indent) {
        const list = h(ordered ? 'ol' : 'ul');
        if (top && top.el.lastElementChild) top.el.lastElementChild.append(list);
        else root.append(list);
        top = { indent, el: list };
        stack.push(top);
      }
      top.el.append(h('li', inline(item[3])));
    } else if (/^\s*$/.test(line)) {
      flush(); closeLists();
    } else if (/^\s*>\s?/.test(line)) {
      flush(); closeLists();
      root.append(h('blockquote', inline(line.replace(/^\s*>\s?/, ''))));
    } else {
      closeLists();
      para.push(line.trim());
    }
  }
  flush();
  return root;
}
