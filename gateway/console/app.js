// The console's entry point: log in with a key, then the Actions, Activations and Invokers tabs.

import { enterActions, initActions, leaveActions } from './actions.js';
import { enterActivations, initActivations, leaveActivations, openRecord } from './activations.js';
import { api, session } from './api.js';
import { $, say, show } from './dom.js';
import { enterInvokers, initInvokers, leaveInvokers } from './invokers.js';

const VIEWS = {
  actions: { enter: enterActions, leave: leaveActions },
  activations: { enter: enterActivations, leave: leaveActivations },
  invokers: { enter: enterInvokers, leave: leaveInvokers },
};
const KEY_SHAPE = /^[^:\s]+:\S+$/;

let namespace = '';
let tab = null;

function showTab(name) {
  if (tab === name) return;
  if (tab) VIEWS[tab].leave();
  tab = name;
  for (const [view, button] of Object.entries(tabButtons())) {
    show($(`${view}-view`), view === name);
    button.setAttribute('aria-selected', String(view === name));
  }
  VIEWS[name].enter();
}

const tabButtons = () => Object.fromEntries([...$('tabs').querySelectorAll('button')].map((b) => [b.dataset.tab, b]));

/** Check the session's key against the API; the namespace it belongs to. */
async function whoAmI() {
  const { data } = await api('namespaces');
  return data[0];
}

function enter(name) {
  namespace = name;
  show($('login-view'), false);
  show($('tabs'), true);
  show($('logout'), true);
  $('who').textContent = `namespace ${namespace}`;
  showTab('actions');
}

function askToLogIn(problem) {
  for (const view of Object.keys(VIEWS)) show($(`${view}-view`), false);
  show($('login-view'), true);
  say($('login-error'), problem, problem ? 'error' : '');
  $('login-key').focus();
}

async function logIn(event) {
  event.preventDefault();
  const key = $('login-key').value.trim();
  if (!KEY_SHAPE.test(key)) {
    say($('login-error'), 'A key looks like uuid:secret, as `stratus standalone` prints it.', 'error');
    return;
  }
  session.setKey(key);
  try {
    const name = await whoAmI();
    $('login-key').value = '';
    enter(name);
  } catch (error) {
    session.clear();
    say($('login-error'), error.status === 401 ? 'The key was not accepted.' : error.message, 'error');
  }
}

function logOut() {
  if (tab) VIEWS[tab].leave();
  session.clear();
  location.reload(); // nothing of the session survives in the page
}

async function start() {
  if (window.opener) {
    // A page that opened this window can script it (same origin, e.g. a web action's page): it could
    // read the key typed here. Only a console opened directly (address bar, bookmark, noopener link) runs.
    say($('login-error'), 'This console was opened by another page: open it from the address bar instead.', 'error');
    show($('login-view'), true);
    show($('login-form').querySelector('label'), false);
    show($('login'), false);
    return;
  }
  initActions({
    namespace: () => namespace,
    openRecord: (id) => {
      showTab('activations');
      openRecord(id);
    },
  });
  initActivations();
  initInvokers();
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  for (const [view, button] of Object.entries(tabButtons())) button.addEventListener('click', () => showTab(view));
  if (!session.key()) {
    askToLogIn('');
    return;
  }
  try {
    enter(await whoAmI());
  } catch (error) {
    session.clear();
    askToLogIn(error.status === 401 ? 'The key was not accepted any more: log in again.' : error.message);
  }
}

start();
