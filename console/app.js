// The operator's console: jobs, a job's execution drawn from its state machine, shards, logs,
// outputs, cost and the queues. Plain ES modules; every read goes through Longtail's HTTP API.
import { ApiError, api, apiKey, apiUrl, forgetApiKey, setApiKey, setApiUrl } from './api.js';
import { drawStateMachine } from './graph.js';

const main = document.getElementById('main');
const pollMs = 1500;
let timer;
let routeToken = 0;

/** Makes an element: h('p', { class: 'note' }, 'text', child…). Text is always text, never HTML. */
const h = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
};

const seconds = (ms) => {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const s = Math.max(0, ms / 1000);
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86400)} d`;
};
const since = (iso) => (iso ? seconds(Date.now() - new Date(iso).getTime()) : '–');
const between = (from, to) =>
  from ? seconds((to ? new Date(to) : new Date()).getTime() - new Date(from).getTime()) : '–';
const usd = (amount) =>
  amount === null || amount === undefined
    ? '–'
    : amount < 0.01
      ? `$${amount.toFixed(5)}`
      : `$${amount.toFixed(2)}`;
const pretty = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));
const badge = (status) => h('span', { class: `badge ${status}` }, status);
const terminal = (status) => ['completed', 'failed', 'cancelled'].includes(status);

/** A clear message where the content would be: never a blank page. */
const problem = (error, context) => {
  const text =
    error instanceof ApiError
      ? error.code === 'JOB_NOT_FOUND'
        ? `${error.message} It may belong to another owner: a key sees only its owner's jobs.`
        : error.message
      : String(error?.message ?? error);
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', {}, context ? `${context}: ` : ''),
    text,
    error?.code ? h('code', {}, ` ${error.code}`) : '',
  );
};

const schedule = (token, fn, ms = pollMs) => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (token === routeToken && !document.hidden) fn();
    else if (token === routeToken) schedule(token, fn, ms);
  }, ms);
};

// ---------- the key ----------

const keyForm = (message) => {
  const input = h('input', {
    id: 'key',
    type: 'password',
    autocomplete: 'off',
    required: true,
    placeholder: 'operator API key',
  });
  const url = h('input', {
    id: 'api-url',
    type: 'url',
    placeholder: location.origin,
    value: localStorage.getItem('longtail.apiUrl') ?? '',
  });
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: (event) => {
        event.preventDefault();
        setApiKey(input.value.trim());
        setApiUrl(url.value.trim());
        void route();
      },
    },
    h('h1', {}, 'Operator key'),
    message
      ? problem(message)
      : h(
          'p',
          { class: 'note' },
          'The console reads Longtail’s API with an operator’s key. It is kept in this tab only (sessionStorage).',
        ),
    h('label', { for: 'key' }, 'API key'),
    input,
    h('details', {}, h('summary', {}, 'API URL (when the console is not served by the API)'), url),
    h('button', { type: 'submit' }, 'Open the console'),
  );
  main.replaceChildren(form);
  input.focus();
};

/** Checks the key once per tab: an operator's, or a clear word why not. */
let checkedKey = null;
const checkOperator = async () => {
  if (checkedKey === apiKey()) return true;
  try {
    await api('/ops/state-machine');
    checkedKey = apiKey();
    return true;
  } catch (error) {
    keyForm(error);
    return false;
  }
};

// ---------- jobs ----------

const filters = { status: '', model: '' };

const jobsView = async (token) => {
  const statusSelect = h(
    'select',
    { id: 'filter-status', onchange: (e) => ((filters.status = e.target.value), void refresh()) },
    ['', 'pending', 'running', 'completed', 'failed', 'cancelled'].map((s) =>
      h('option', { value: s, selected: s === filters.status }, s || 'any status'),
    ),
  );
  const modelSelect = h(
    'select',
    { id: 'filter-model', onchange: (e) => ((filters.model = e.target.value), void render()) },
    h('option', { value: '' }, 'any model'),
  );
  const body = h('tbody');
  const status = h('p', { class: 'note', 'aria-live': 'polite' });
  const submit = submitForm();
  main.replaceChildren(
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'row' },
        h('h1', {}, 'Jobs'),
        h('div', { class: 'filters' }, statusSelect, modelSelect),
      ),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'jobs' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Job', 'Status', 'Model', 'Source', 'Records', 'Age', 'Duration'].map((t) => h('th', {}, t)),
            ),
          ),
          body,
        ),
      ),
      status,
    ),
    submit,
  );
  let jobs = [];
  const render = () => {
    const models = [...new Set(jobs.map((job) => job.model))].sort();
    const chosen = modelSelect.value;
    modelSelect.replaceChildren(
      h('option', { value: '' }, 'any model'),
      ...models.map((m) => h('option', { value: m, selected: m === chosen }, m)),
    );
    const shown = jobs.filter((job) => !filters.model || job.model === filters.model);
    body.replaceChildren(
      ...shown.map((job) =>
        h(
          'tr',
          { 'data-job': job.jobId },
          h('td', {}, h('a', { href: `#/jobs/${job.jobId}` }, job.jobId.slice(0, 8))),
          h('td', {}, badge(job.status)),
          h('td', {}, `${job.model} v${job.modelVersion}`),
          h('td', {}, job.source),
          h(
            'td',
            {},
            `${job.counts.succeeded}/${job.counts.total}`,
            job.counts.failed ? h('span', { class: 'bad' }, ` ${job.counts.failed} failed`) : '',
          ),
          h('td', {}, since(job.createdAt)),
          h('td', {}, job.startedAt ? between(job.startedAt, job.completedAt) : '–'),
        ),
      ),
    );
    if (!shown.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'note' }, 'No jobs match.')));
  };
  const refresh = async () => {
    try {
      const query = new URLSearchParams({
        limit: '50',
        ...(filters.status ? { status: filters.status } : {}),
      });
      jobs = (await api(`/jobs?${query}`)).jobs;
      if (token !== routeToken) return;
      render();
      status.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every few seconds.`;
    } catch (error) {
      if (token !== routeToken) return;
      status.replaceChildren(problem(error, 'Jobs'));
    }
    schedule(token, refresh, 3000);
  };
  await refresh();
};

/** Submit a job from the page: a model and its records (the model's example, to start from). */
const submitForm = () => {
  const model = h('select', { id: 'submit-model' });
  const records = h('textarea', { id: 'submit-records', rows: 5, spellcheck: 'false' });
  const message = h('div', { 'aria-live': 'polite' });
  const examples = new Map();
  const fill = () => {
    const example = examples.get(model.value);
    records.value = JSON.stringify(example ? [example] : [], null, 1);
  };
  model.addEventListener('change', fill);
  api('/models')
    .then(({ models }) => {
      for (const m of models) {
        examples.set(m.name, m.latest?.example ?? m.example);
        model.append(h('option', { value: m.name }, m.name));
      }
      fill();
    })
    .catch((error) => message.replaceChildren(problem(error, 'Models')));
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const parsed = JSON.parse(records.value);
          const answer = await api('/jobs', {
            method: 'POST',
            body: { model: model.value, input: { records: Array.isArray(parsed) ? parsed : [parsed] } },
          });
          location.hash = `#/jobs/${answer.jobId}`;
        } catch (error) {
          message.replaceChildren(
            problem(
              error instanceof SyntaxError ? new Error(`The records are not JSON: ${error.message}`) : error,
              'Submit',
            ),
          );
        }
      },
    },
    h('h2', {}, 'Submit a job'),
    h('div', { class: 'row' }, h('label', { for: 'submit-model' }, 'Model'), model),
    h('label', { for: 'submit-records' }, 'Records (a JSON array)'),
    records,
    h('button', { type: 'submit', id: 'submit-job' }, 'Submit'),
    message,
  );
};

// ---------- one job ----------

let stateMachine;
const definitionOf = async () => (stateMachine ??= (await api('/ops/state-machine')).definition);

const runStatusClass = {
  running: 'running',
  succeeded: 'succeeded',
  caught: 'caught',
  failed: 'failed',
  aborted: 'aborted',
};

const jobView = async (token, jobId) => {
  const header = h('section', { class: 'card', id: 'job-header' }, h('p', { class: 'note' }, 'Loading job…'));
  const graph = h('div', { class: 'graph-box', id: 'graph' });
  const graphNote = h('div', { id: 'graph-note' });
  const detail = h(
    'aside',
    { class: 'state-detail', id: 'state-detail' },
    h('p', { class: 'note' }, 'Choose a state to see its input, output, error and timing.'),
  );
  const shards = h('section', { class: 'card', id: 'shards' });
  const logs = h('section', { class: 'card', id: 'logs', hidden: true });
  const outputs = h('section', { class: 'card', id: 'outputs' });
  const webhooks = h('section', { class: 'card', id: 'webhooks', hidden: true });
  main.replaceChildren(
    header,
    h(
      'section',
      { class: 'card execution' },
      h('h2', {}, 'Execution'),
      graphNote,
      h('div', { class: 'split' }, graph, detail),
    ),
    shards,
    logs,
    outputs,
    webhooks,
  );
  let selected = null;
  let execution = null;
  let lastJob = null;
  let outputsFetchedFor = null;

  const showState = (name) => {
    selected = name;
    const runs = execution?.runs.filter((run) => run.stateName === name) ?? [];
    const state = stateMachine.States[name];
    detail.replaceChildren(
      h('h3', {}, name),
      h('p', { class: 'note' }, `${state.Type}${state.Comment ? ` — ${state.Comment}` : ''}`),
      runs.length === 0 ? h('p', { class: 'note' }, 'The execution has not entered this state.') : '',
      ...runs.map((run, i) =>
        h(
          'div',
          { class: 'run' },
          h(
            'p',
            {},
            runs.length > 1 ? `Run ${i + 1}: ` : '',
            badge(run.status),
            ` entered ${new Date(run.enteredAt).toLocaleTimeString()}, `,
            run.durationMs === null ? 'still here' : `took ${seconds(run.durationMs)}`,
            run.retries ? `, ${run.retries} retr${run.retries === 1 ? 'y' : 'ies'}` : '',
          ),
          run.error
            ? h(
                'div',
                { class: 'error' },
                h('strong', {}, run.error.error),
                h('pre', {}, pretty(run.error.cause)),
              )
            : '',
          h('h4', {}, 'Input'),
          h('pre', { class: 'state-input' }, pretty(run.input)),
          run.exitedAt && run.status !== 'failed'
            ? [h('h4', {}, 'Output'), h('pre', { class: 'state-output' }, pretty(run.output))]
            : '',
        ),
      ),
    );
    if (execution) drawGraph();
  };

  const drawGraph = () => {
    const last = new Map();
    for (const run of execution?.runs ?? [])
      last.set(run.stateName, runStatusClass[run.status] ?? 'unvisited');
    drawStateMachine(graph, stateMachine, (name) => last.get(name) ?? 'unvisited', showState, selected);
  };

  const renderHeader = (job) => {
    const cancel = h(
      'button',
      {
        type: 'button',
        id: 'cancel',
        disabled: terminal(job.status),
        onclick: async () => {
          if (!confirm(`Cancel job ${job.jobId}?`)) return;
          try {
            await api(`/jobs/${job.jobId}/cancel`, { method: 'POST' });
            void refresh();
          } catch (error) {
            header.append(problem(error, 'Cancel'));
          }
        },
      },
      'Cancel',
    );
    const retry = h(
      'button',
      {
        type: 'button',
        id: 'retry-failed',
        disabled: !(terminal(job.status) && job.counts.failed > 0),
        onclick: async () => {
          try {
            const answer = await api(`/jobs/${job.jobId}/retry-failed`, { method: 'POST' });
            location.hash = `#/jobs/${answer.jobId}`;
          } catch (error) {
            header.append(problem(error, 'Retry failed'));
          }
        },
      },
      'Retry failed records',
    );
    const cost = job.cost;
    header.replaceChildren(
      h(
        'div',
        { class: 'row' },
        h('h1', {}, 'Job ', h('code', {}, job.jobId)),
        h('span', { id: 'job-status' }, badge(job.status)),
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Model'),
        h('dd', {}, `${job.model} v${job.modelVersion}`),
        h('dt', {}, 'Source'),
        h(
          'dd',
          {},
          job.source,
          job.parentJobId
            ? [' of ', h('a', { href: `#/jobs/${job.parentJobId}` }, job.parentJobId.slice(0, 8))]
            : '',
        ),
        h('dt', {}, 'Records'),
        h(
          'dd',
          { id: 'job-counts' },
          `${job.counts.succeeded} succeeded, ${job.counts.failed} failed of ${job.counts.total}`,
        ),
        h('dt', {}, 'Created'),
        h('dd', {}, `${new Date(job.createdAt).toLocaleString()} (${since(job.createdAt)} ago)`),
        h('dt', {}, 'Duration'),
        h('dd', {}, job.startedAt ? between(job.startedAt, job.completedAt) : 'not started'),
        h('dt', {}, 'Cost'),
        h(
          'dd',
          { id: 'job-cost' },
          cost?.total
            ? `${usd(cost.total.onDemand)} on demand, ${usd(cost.total.spot)} on Spot — ${cost.gpuSeconds.toFixed(1)} s of ${cost.instanceType} in ${cost.attempts} attempt${cost.attempts === 1 ? '' : 's'}${cost.measuredBy === 'local' ? ' (this machine’s worker time, priced as that instance)' : ''}, ${usd(cost.fixed)} fixed`
            : terminal(job.status)
              ? 'not recorded'
              : 'recorded when the job ends',
        ),
        job.executionArn
          ? [
              h('dt', {}, 'Execution'),
              h(
                'dd',
                {},
                job.consoleUrl
                  ? h(
                      'a',
                      { href: job.consoleUrl, target: '_blank', rel: 'noopener' },
                      'Step Functions console',
                    )
                  : h('code', { class: 'small' }, job.executionArn),
              ),
            ]
          : '',
      ),
      job.error
        ? h(
            'div',
            { class: 'error', id: 'job-error' },
            h('strong', {}, job.error.code),
            ' ',
            job.error.message,
          )
        : '',
      h('div', { class: 'actions' }, cancel, retry),
    );
  };

  const renderShards = (view) => {
    if (!view.shardCount) {
      shards.replaceChildren(
        h('h2', {}, 'Shards'),
        h('p', { class: 'note' }, 'The input has not been planned into shards yet.'),
      );
      return;
    }
    const tally = { pending: 0, running: 0, succeeded: 0, failed: 0, retried: 0 };
    for (const shard of view.shards) {
      tally[shard.status]++;
      if (shard.retried) tally.retried++;
    }
    shards.replaceChildren(
      h('h2', {}, 'Shards'),
      h(
        'p',
        { class: 'note' },
        Object.entries(tally)
          .map(([k, v]) => `${v} ${k}`)
          .join(' · '),
      ),
      h(
        'ol',
        { class: 'strip' },
        view.shards.map((shard) =>
          h(
            'li',
            {},
            h(
              'button',
              {
                type: 'button',
                class: `shard ${shard.status}${shard.retried ? ' retried' : ''}`,
                'data-shard': shard.index,
                title: shard.error ? `${shard.error.code}: ${shard.error.message}` : shard.status,
                onclick: () => void showLogs(shard.index),
              },
              h('span', { class: 'shard-index' }, `#${shard.index}`),
              h('span', {}, shard.status, shard.retried ? ` (attempt ${shard.attempt})` : ''),
              h(
                'span',
                { class: 'small' },
                shard.processed === undefined
                  ? ''
                  : `${shard.processed} rec${shard.recordsPerSecond ? `, ${Math.round(shard.recordsPerSecond)}/s` : ''}`,
              ),
            ),
            shard.error
              ? h('p', { class: 'shard-error' }, h('strong', {}, shard.error.code), ' ', shard.error.message)
              : '',
          ),
        ),
      ),
      h('p', { class: 'note' }, 'Choose a shard for its worker logs.'),
    );
  };

  const showLogs = async (index) => {
    logs.hidden = false;
    logs.replaceChildren(
      h('h2', {}, `Worker logs of shard #${index}`),
      h('p', { class: 'note' }, 'Loading…'),
    );
    try {
      const view = await api(`/ops/jobs/${jobId}/shards/${index}/logs`);
      logs.replaceChildren(
        h('h2', {}, `Worker logs of shard #${index}`),
        view.attempts.length === 0
          ? h('p', { class: 'note' }, 'No logs yet: the shard has not started.')
          : '',
        ...view.attempts.flatMap((a) => [
          h('h3', {}, `Attempt ${a.attempt}`, a.truncated ? ' (last lines)' : ''),
          h('pre', { class: 'log' }, a.lines.join('\n')),
        ]),
      );
    } catch (error) {
      logs.replaceChildren(h('h2', {}, `Worker logs of shard #${index}`), problem(error));
    }
  };

  const renderOutputs = (view) => {
    const file = (title, part) => [
      h('h3', {}, title, ' ', h('code', { class: 'small' }, part.uri)),
      part.exists
        ? h('pre', { class: 'head' }, part.lines.join('\n') || '(empty)')
        : h('p', { class: 'note' }, 'Not written (yet).'),
    ];
    outputs.replaceChildren(
      h('h2', {}, 'Outputs (first lines)'),
      ...file('Output', view.output),
      ...file('Failed records', view.failures),
    );
  };

  const renderWebhooks = (job) => {
    if (!job.webhookUrl) return;
    webhooks.hidden = false;
    // The job's status never holds its webhook secret: only the URL and the attempts.
    webhooks.replaceChildren(
      h('h2', {}, 'Webhook'),
      h('p', {}, h('code', {}, job.webhookUrl)),
      job.webhookAttempts.length === 0
        ? h('p', { class: 'note' }, 'No delivery yet (sent when the job ends).')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['When', 'Attempt', 'Result', 'Time'].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              job.webhookAttempts.map((a) =>
                h(
                  'tr',
                  {},
                  h('td', {}, new Date(a.at).toLocaleTimeString()),
                  h('td', {}, a.attempt),
                  h('td', {}, a.ok ? `ok ${a.status ?? ''}` : `${a.status ?? ''} ${a.error ?? 'failed'}`),
                  h('td', {}, seconds(a.durationMs)),
                ),
              ),
            ),
          ),
    );
  };

  const refresh = async () => {
    let job;
    try {
      job = await api(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (error) {
      if (token !== routeToken) return;
      main.replaceChildren(
        h(
          'section',
          { class: 'card' },
          h('h1', {}, 'Job ', h('code', {}, jobId)),
          problem(error),
          h('p', {}, h('a', { href: '#/' }, 'Back to the jobs')),
        ),
      );
      return;
    }
    if (token !== routeToken) return;
    lastJob = job;
    renderHeader(job);
    renderWebhooks(job);
    const [history, shardView] = await Promise.allSettled([
      api(`/ops/jobs/${jobId}/execution`),
      api(`/ops/jobs/${jobId}/shards`),
    ]);
    if (token !== routeToken) return;
    if (history.status === 'fulfilled') {
      execution = history.value.execution;
      graphNote.replaceChildren(
        history.value.message
          ? h('p', { class: 'note' }, history.value.message)
          : h(
              'p',
              { class: 'note legend' },
              ['succeeded', 'running', 'caught', 'failed', 'unvisited'].map((s) =>
                h('span', { class: `key ${s}` }, s),
              ),
            ),
      );
    } else {
      execution = null;
      graphNote.replaceChildren(problem(history.reason, 'Execution history'));
    }
    drawGraph();
    if (selected) showState(selected);
    if (shardView.status === 'fulfilled') renderShards(shardView.value);
    else shards.replaceChildren(h('h2', {}, 'Shards'), problem(shardView.reason));
    if (outputsFetchedFor !== job.status) {
      outputsFetchedFor = job.status;
      try {
        renderOutputs(await api(`/ops/jobs/${jobId}/outputs`));
      } catch (error) {
        outputs.replaceChildren(h('h2', {}, 'Outputs'), problem(error));
      }
    }
    // A job that ended is read once more, for the usage its last step records.
    if (!terminal(lastJob.status) || !lastJob.cost) schedule(token, refresh);
  };
  try {
    await definitionOf();
  } catch (error) {
    graph.replaceChildren(problem(error, 'State machine'));
  }
  await refresh();
};

// ---------- queues ----------

const queuesView = async (token) => {
  const box = h(
    'section',
    { class: 'card', id: 'queues' },
    h('h1', {}, 'Queues'),
    h('p', { class: 'note' }, 'Loading…'),
  );
  main.replaceChildren(box);
  const refresh = async () => {
    try {
      const q = await api('/ops/queues');
      if (token !== routeToken) return;
      box.replaceChildren(
        h('h1', {}, 'Queues'),
        h('h2', {}, 'Jobs queue'),
        h(
          'p',
          { id: 'jobs-queue' },
          `${q.jobsQueue.visible} waiting, ${q.jobsQueue.inFlight} being dispatched; ${q.jobsQueue.pendingJobs} pending job${q.jobsQueue.pendingJobs === 1 ? '' : 's'}`,
          q.jobsQueue.oldestPendingSeconds === null
            ? ''
            : `, the oldest for ${seconds(q.jobsQueue.oldestPendingSeconds * 1000)}`,
        ),
        h('h2', {}, 'Dead-letter queue'),
        h('p', {}, `${q.deadLetterQueue.visible} message${q.deadLetterQueue.visible === 1 ? '' : 's'}`),
        q.deadLetterQueue.messages.length
          ? h(
              'ul',
              { id: 'dead-letters' },
              q.deadLetterQueue.messages.map((m) =>
                h(
                  'li',
                  {},
                  m.jobId ? h('a', { href: `#/jobs/${m.jobId}` }, m.jobId) : h('code', {}, m.messageId),
                  m.sentAt ? ` sent ${since(m.sentAt)} ago` : '',
                  `, received ${m.receiveCount}×`,
                ),
              ),
            )
          : '',
        h('h2', {}, 'AWS Batch'),
        h(
          'p',
          { id: 'batch-runnable' },
          q.batch.runnable.length
            ? `${q.batch.runnable.length} job${q.batch.runnable.length === 1 ? '' : 's'} RUNNABLE`
            : 'Nothing RUNNABLE: no job waits for an instance.',
        ),
        q.batch.runnable.length
          ? h(
              'ul',
              {},
              q.batch.runnable.map((r) =>
                h('li', {}, `${r.jobName} waiting ${seconds(r.waitingSeconds * 1000)}`),
              ),
            )
          : '',
        h(
          'p',
          { class: 'note' },
          [
            ...q.batch.queues.map((x) => `queue ${x.name}: ${x.state}, ${x.status}`),
            ...q.batch.computeEnvironments.map(
              (c) =>
                `compute environment ${c.name}: ${c.state}, ${c.status}, ${c.desiredvCpus}/${c.maxvCpus} vCPUs`,
            ),
          ].join(' · '),
        ),
        h('p', { class: 'note' }, `Updated ${new Date().toLocaleTimeString()}.`),
      );
    } catch (error) {
      if (token !== routeToken) return;
      box.replaceChildren(h('h1', {}, 'Queues'), problem(error));
    }
    schedule(token, refresh, 3000);
  };
  await refresh();
};

// ---------- routing ----------

const route = async () => {
  const token = ++routeToken;
  clearTimeout(timer);
  const forget = document.getElementById('forget');
  if (!apiKey()) {
    forget.hidden = true;
    keyForm();
    return;
  }
  forget.hidden = false;
  document.getElementById('who').textContent = apiUrl();
  if (!(await checkOperator())) return;
  const path = location.hash.replace(/^#/, '') || '/';
  const jobMatch = /^\/jobs\/([^/]+)$/.exec(path);
  if (jobMatch) return jobView(token, decodeURIComponent(jobMatch[1]));
  if (path === '/queues') return queuesView(token);
  if (path === '/') return jobsView(token);
  main.replaceChildren(
    h(
      'section',
      { class: 'card' },
      problem(new Error(`There is no page ${path} in the console.`)),
      h('a', { href: '#/' }, 'Jobs'),
    ),
  );
};

document.getElementById('forget').addEventListener('click', () => {
  forgetApiKey();
  checkedKey = null;
  void route();
});
window.addEventListener('hashchange', () => void route());
window.addEventListener('unhandledrejection', (event) => main.append(problem(event.reason, 'Unexpected')));
void route();
