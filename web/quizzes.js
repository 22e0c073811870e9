// Quizzes: the list with best scores, a new quiz from a document, taking one
// (one question at a time or all on one page), the score and explanations,
// and every attempt.
import * as api from './api.js';
import { h, clear, pageTitle, announce, errorBox, loading, formatTime, field } from './dom.js';

const pct = (p) => (p === null || p === undefined ? '–' : `${Math.round(Number(p))}%`);

export async function quizzesPage(main) {
  main.append(pageTitle('Quizzes'), h('p', h('a.button.primary', { href: '#/quizzes/new' }, 'New quiz')));
  const box = h('section', { 'aria-labelledby': 'hist-h' }, h('h2#hist-h', 'History'), loading('your quizzes'));
  main.append(box);
  try {
    const quizzes = await api.call('GET', '/api/v1/quizzes/history?limit=100');
    box.lastChild.remove();
    if (!quizzes.length) {
      box.append(h('p.empty', 'No quizzes yet. Make one from a document in your library.'));
      return;
    }
    box.append(h('table.quiz-table', {},
      h('caption.visually-hidden', 'Your quizzes and best scores'),
      h('thead', h('tr', h('th', { scope: 'col' }, 'Quiz'), h('th', { scope: 'col' }, 'Questions'),
        h('th', { scope: 'col' }, 'Difficulty'), h('th', { scope: 'col' }, 'Best score'), h('th', { scope: 'col' }, 'Actions'))),
      h('tbody', quizzes.map((q) => h('tr', {},
        h('td', h('a', { href: `#/quizzes/${q.id}` }, q.title), h('br'), h('span.meta', formatTime(q.created_at))),
        h('td', String(q.num_questions)),
        h('td', q.difficulty),
        h('td', pct(q.score)),
        h('td', h('a', { href: `#/quizzes/${q.id}/results` }, 'Results'), ' ',
          h('button.danger.small', {
            type: 'button',
            'aria-label': `Delete ${q.title}`,
            onclick: async () => {
              if (!window.confirm(`Delete ${q.title} and its attempts?`)) return;
              try {
                await api.call('DELETE', `/api/v1/quizzes/${q.id}`);
                announce('Quiz deleted.');
                clear(main);
                quizzesPage(main);
              } catch (e) { announce(e.message); }
            },
          }, 'Delete')))))));
  } catch (e) {
    box.lastChild.replaceWith(errorBox(e));
  }
}

export async function newQuizPage(main, ctx) {
  main.append(h('p', h('a', { href: '#/quizzes' }, '← Quizzes')), pageTitle('New quiz'));
  const doc = h('select', { name: 'document', required: true });
  let docs = [];
  try {
    docs = (await api.call('GET', '/api/v1/documents?limit=100')).filter((d) => d.status === 'processed');
  } catch (e) {
    main.append(errorBox(e));
    return;
  }
  if (!docs.length) {
    main.append(h('p.empty', 'No processed document in your library yet: ', h('a', { href: '#/library' }, 'upload one'), ', or make a quiz from a file below.'));
    doc.append(h('option', { value: '' }, '(none yet)'));
  }
  for (const d of docs) doc.append(h('option', { value: d.id }, d.filename));
  const file = h('input', { type: 'file', accept: '.pdf,.txt,.md,.docx,.png,.jpg,.jpeg' });
  if (ctx.params.get('document')) doc.value = ctx.params.get('document');
  const count = h('input', { type: 'number', min: '1', max: '50', value: '5', name: 'count', required: true });
  const difficulty = h('select', { name: 'difficulty' },
    ['easy', 'medium', 'hard'].map((d) => h('option', { value: d, selected: d === 'medium' }, d[0].toUpperCase() + d.slice(1))));
  const title = h('input', { type: 'text', name: 'title', maxlength: '200', placeholder: 'Quiz: <document name>' });
  const types = [['multiple_choice', 'Multiple choice', true], ['true_false', 'True or false', true], ['short_answer', 'Short answer', false]]
    .map(([v, label, on]) => {
      const box = h('input', { type: 'checkbox', value: v, id: `type-${v}`, checked: on });
      return { box, el: h('div.check', box, h('label', { for: `type-${v}` }, label)) };
    });
  const err = h('div', { 'aria-live': 'assertive' });
  const submit = h('button.primary', { type: 'submit' }, 'Generate quiz');
  main.append(h('form.card', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(err);
      const chosen = types.filter((t) => t.box.checked).map((t) => t.box.value);
      const n = Number(count.value);
      if (!chosen.length) { err.append(h('p.error', { role: 'alert' }, 'Choose at least one type of question.')); return; }
      if (!Number.isInteger(n) || n < 1 || n > 50) { err.append(h('p.error', { role: 'alert' }, 'Ask for 1 to 50 questions.')); return; }
      submit.disabled = true;
      submit.textContent = 'Generating…';
      try {
        let quiz;
        if (file.files[0]) {
          // From a file: multipart, the file is read and not kept.
          const form = new FormData();
          form.append('file', file.files[0], file.files[0].name);
          form.append('num_questions', String(n));
          form.append('difficulty', difficulty.value);
          form.append('types', chosen.join(','));
          if (title.value.trim()) form.append('title', title.value.trim());
          quiz = await api.upload('/api/v1/quizzes/generate', form, () => {});
        } else {
          if (!doc.value) throw new Error('Choose a document or a file.');
          const body = { document_id: doc.value, num_questions: n, difficulty: difficulty.value, types: chosen };
          if (title.value.trim()) body.title = title.value.trim();
          quiz = await api.call('POST', '/api/v1/quizzes/generate', { json: body });
        }
        announce(`Quiz ready: ${quiz.num_questions} questions.`);
        ctx.go(`/quizzes/${quiz.id}`);
      } catch (ex) {
        err.append(errorBox(ex));
        submit.disabled = false;
        submit.textContent = 'Generate quiz';
      }
    },
  }, field('Document', doc), field('Or a file (read for this quiz, not kept)', file), h('div.row', field('Number of questions', count), field('Difficulty', difficulty)),
  h('fieldset', h('legend', 'Types of question'), types.map((t) => t.el)),
  field('Title (optional)', title), err, submit));
}

function questionBlock(q, i, total) {
  const name = `q-${q.question_id}`;
  const legend = h('legend', h('span.qnum', `Question ${i + 1} of ${total}`), h('span.qtext', q.question_text || q.question));
  let input;
  if (q.options && q.options.length) {
    input = h('div.options', q.options.map((o, k) => {
      const id = `${name}-${k}`;
      return h('div.check', h('input', { type: 'radio', name, id, value: String(k) }), h('label', { for: id }, o));
    }));
  } else {
    const id = `${name}-text`;
    input = h('div.field', h('label', { for: id }, 'Your answer'), h('input', { type: 'text', id, name, autocomplete: 'off' }));
  }
  return h('fieldset.question', { 'data-qid': q.question_id }, legend, input);
}

function collect(form, quiz) {
  const answers = {};
  for (const q of quiz.questions) {
    const name = `q-${q.question_id}`;
    if (q.options && q.options.length) {
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      answers[q.question_id] = picked ? Number(picked.value) : null;
    } else {
      const t = form.querySelector(`input[name="${name}"]`);
      answers[q.question_id] = t && t.value.trim() ? t.value : null;
    }
  }
  return answers;
}

function answerText(q, a) {
  if (a === null || a === undefined || a === '') return 'no answer';
  if (q && q.options && q.options.length && Number.isInteger(Number(a)) && q.options[Number(a)] !== undefined) return q.options[Number(a)];
  return String(a);
}

export function resultView(quiz, sub) {
  const byId = new Map(quiz.questions.map((q) => [q.question_id, q]));
  return h('section.card.result', { 'aria-labelledby': 'score-h' },
    h('h2#score-h', `Score: ${sub.score} of ${sub.max_score} (${pct(sub.percentage)})`),
    h('ol.results', sub.results.map((r) => {
      const q = byId.get(r.question_id) || {};
      return h(`li.${r.is_correct ? 'right' : 'wrong'}`, {},
        h('p.qtext', q.question_text || q.question || ''),
        h('p', h('strong', r.is_correct ? '✓ Correct. ' : '✗ Not quite. '),
          `Your answer: ${answerText(q, r.user_answer)}.`,
          r.is_correct ? '' : ` Correct answer: ${answerText(q, r.correct_answer)}.`),
        r.explanation ? h('p.explanation', r.explanation) : null);
    })));
}

export async function quizPage(main, ctx, id) {
  main.append(h('p', h('a', { href: '#/quizzes' }, '← Quizzes')), loading('the quiz'));
  let quiz;
  try {
    quiz = await api.call('GET', `/api/v1/quizzes/${id}`);
  } catch (e) {
    main.lastChild.replaceWith(errorBox(e));
    return;
  }
  main.lastChild.remove();
  main.append(pageTitle(quiz.title), h('p.meta', `${quiz.num_questions} questions · ${quiz.difficulty}`));
  const total = quiz.questions.length;
  const blocks = quiz.questions.map((q, i) => questionBlock(q, i, total));
  let mode = 'one';
  let at = 0;
  const prev = h('button', { type: 'button' }, 'Previous');
  const next = h('button', { type: 'button' }, 'Next');
  const submit = h('button.primary', { type: 'submit' }, 'Submit answers');
  const nav = h('div.actions', prev, next, submit);
  const out = h('div');
  const show = () => {
    blocks.forEach((b, i) => { b.hidden = mode === 'one' && i !== at; });
    prev.hidden = next.hidden = mode !== 'one';
    prev.disabled = at === 0;
    next.disabled = at === total - 1;
    submit.hidden = mode === 'one' && at !== total - 1;
  };
  prev.addEventListener('click', () => { at = Math.max(0, at - 1); show(); blocks[at].querySelector('input').focus(); });
  next.addEventListener('click', () => { at = Math.min(total - 1, at + 1); show(); blocks[at].querySelector('input').focus(); });
  const modeBox = h('input', { type: 'checkbox', id: 'all-at-once' });
  modeBox.addEventListener('change', () => { mode = modeBox.checked ? 'all' : 'one'; show(); });
  const form = h('form.quiz', {
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const sub = await api.call('POST', `/api/v1/quizzes/${id}/submit`, { json: { answers: collect(form, quiz) } });
        form.hidden = true;
        clear(out).append(resultView(quiz, sub),
          h('p.actions', h('a.button', { href: `#/quizzes/${id}/results` }, 'All attempts'),
            h('button', { type: 'button', onclick: () => ctx.go(`/quizzes/${id}`) }, 'Try again')));
        announce(`Your score: ${pct(sub.percentage)}.`);
        out.querySelector('h2').setAttribute('tabindex', '-1');
        out.querySelector('h2').focus();
      } catch (ex) {
        clear(out).append(errorBox(ex));
        submit.disabled = false;
      }
    },
  }, h('div.check', modeBox, h('label', { for: 'all-at-once' }, 'Show all questions on one page')), blocks, nav);
  main.append(form, out);
  show();
}

export async function quizResultsPage(main, ctx, id) {
  main.append(h('p', h('a', { href: '#/quizzes' }, '← Quizzes')), loading('the results'));
  let res;
  let quiz;
  try {
    [res, quiz] = await Promise.all([
      api.call('GET', `/api/v1/quizzes/${id}/results`),
      api.call('GET', `/api/v1/quizzes/${id}?include_answers=true`),
    ]);
  } catch (e) {
    main.lastChild.replaceWith(errorBox(e));
    return;
  }
  main.lastChild.remove();
  main.append(pageTitle(`Results: ${res.title}`),
    h('p', `${res.total_attempts} attempt${res.total_attempts === 1 ? '' : 's'} · best ${pct(res.best_percentage)}`),
    h('p', h('a.button.primary', { href: `#/quizzes/${id}` }, 'Take it again')));
  if (!res.submissions.length) {
    main.append(h('p.empty', 'No attempts yet.'));
    return;
  }
  main.append(h('ol.attempts', res.submissions.map((s) => h('li', `${formatTime(s.created_at)}: ${s.score} of ${s.max_score} (${pct(s.percentage)})`))));
  if (res.submissions[0].results) main.append(h('h2', 'Latest attempt'), resultView(quiz, res.submissions[0]));
}
