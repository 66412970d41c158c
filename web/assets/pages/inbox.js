// Inbox: received messages of all modems, newest first. Open (marks read), reply (opens Send SMS
// prefilled), delete (after a confirmation). Reloads when the monitor reports an incoming SMS.

import { h, clear, fmtTime, timeEl, table, tableWrap, td, badge, pageHeader } from '../dom.js';
import { get, post, del, seg, describeError } from '../api.js';
import { button, confirmDialog, notify } from '../forms.js';

function preview(text) {
  const oneLine = String(text || '').replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine;
}

// Alphanumeric senders ("TELKOMSEL") cannot receive an answer.
const canReply = (m) => /^\+?\d{3,20}$/.test(String(m.from || ''));

export default {
  id: 'inbox',
  title: 'Inbox',
  render(container, ctx) {
    let messages = [];
    let openKey = null;

    const refresh = button('Refresh', { testid: 'inbox-refresh', onclick: () => load() });
    const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'inbox-error' });
    const detail = h('section', { class: 'card detail', testid: 'inbox-message', hidden: true, 'aria-live': 'polite' });
    const { table: tbl, tbody } = table('inbox-table', 'Received messages', ['From', 'Modem', 'Received', 'Message', 'Status', 'Actions'], 'responsive');
    const empty = h('p', { class: 'muted', testid: 'inbox-empty', hidden: true }, 'The inbox is empty.');
    const count = h('p', { class: 'muted', testid: 'inbox-count' });

    container.append(pageHeader('Inbox', refresh), status, detail, count, tableWrap(tbl, 'Received messages'), empty);

    const keyOf = (m) => `${m.modem_id}/${m.id}`;

    function reply(m) {
      ctx.navigate('send', { receiver: m.from, modem_id: m.modem_id });
    }

    async function remove(m) {
      const ok = await confirmDialog({ title: 'Delete this message?', message: `From ${m.from}, received ${fmtTime(m.received_unix)}. This cannot be undone.`, confirmLabel: 'Delete' });
      if (!ok) return;
      try {
        await del(`/inbox/${seg(m.modem_id)}/${seg(m.id)}`);
        notify('The message was deleted.');
        if (openKey === keyOf(m)) closeDetail();
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    }

    async function setRead(m, read) {
      await post(`/inbox/${seg(m.modem_id)}/${seg(m.id)}/read`, { read });
      m.read = read;
    }

    function closeDetail() {
      openKey = null;
      detail.hidden = true;
      clear(detail);
    }

    async function open(m) {
      openKey = keyOf(m);
      clear(detail).append(
        h('h2', { tabindex: '-1' }, `Message from ${m.from}`),
        h(
          'p',
          { class: 'muted' },
          `Modem ${m.modem_id} · received `,
          timeEl(m.received_unix),
          typeof m.parts === 'number' && m.parts > 1 ? ` · ${m.parts} parts` : '',
          m.complete === false ? ' · some parts are still missing' : '',
        ),
        h('p', { class: 'message-text', testid: 'inbox-message-text' }, m.text || ''),
        h(
          'div',
          { class: 'actions' },
          canReply(m) ? button('Reply', { class: 'btn-primary', testid: 'inbox-message-reply', onclick: () => reply(m) }) : h('span', { class: 'muted' }, 'This sender is a name, not a number: no reply possible.'),
          button('Mark as unread', {
            testid: 'inbox-mark-unread',
            onclick: async () => {
              try {
                await setRead(m, false);
                closeDetail();
                render();
              } catch (e) {
                if (e.status !== 401) notify(describeError(e), 'error');
              }
            },
          }),
          button('Delete', { class: 'btn-danger', testid: 'inbox-message-delete', onclick: () => remove(m) }),
          button('Close', { testid: 'inbox-message-close', onclick: closeDetail }),
        ),
      );
      detail.hidden = false;
      detail.querySelector('h2').focus();
      if (!m.read) {
        try {
          await setRead(m, true);
          render();
        } catch (e) {
          if (e.status !== 401) notify(describeError(e), 'error');
        }
      }
    }

    function render() {
      clear(tbody);
      const unread = messages.filter((m) => !m.read).length;
      count.textContent = messages.length ? `${messages.length} message${messages.length === 1 ? '' : 's'}, ${unread} unread` : '';
      empty.hidden = messages.length > 0;
      for (const m of messages) {
        const row = h(
          'tr',
          { testid: 'inbox-row', 'data-id': String(m.id), 'data-modem-id': m.modem_id, class: m.read ? null : 'unread' },
          td('From', m.from || '–'),
          td('Modem', m.modem_id || '–'),
          td('Received', timeEl(m.received_unix)),
          td('Message', preview(m.text)),
          td('Status', m.read ? badge('read', 'muted') : badge('new', 'info'), m.complete === false ? badge('incomplete', 'warn') : null),
          td(
            'Actions',
            h(
              'div',
              { class: 'row-actions' },
              button('Open', { class: 'btn-small', testid: 'inbox-open', 'aria-label': `Open the message from ${m.from}`, onclick: () => open(m) }),
              canReply(m) ? button('Reply', { class: 'btn-small', testid: 'inbox-reply', 'aria-label': `Reply to ${m.from}`, onclick: () => reply(m) }) : null,
              button('Delete', { class: 'btn-small btn-danger', testid: 'inbox-delete', 'aria-label': `Delete the message from ${m.from}`, onclick: () => remove(m) }),
            ),
          ),
        );
        tbody.append(row);
      }
    }

    async function load() {
      try {
        const data = await get('/inbox');
        messages = Array.isArray(data.messages) ? data.messages : [];
        status.hidden = true;
        if (openKey && !messages.some((m) => keyOf(m) === openKey)) closeDetail();
        render();
      } catch (e) {
        if (e.status === 401) return;
        status.textContent = describeError(e);
        status.hidden = false;
      }
    }

    load();
    ctx.onCleanup(
      ctx.live.on('event', (ev) => {
        if (ev.kind === 'incoming_sms') load();
      }),
    );
  },
};
