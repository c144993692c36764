import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/server/dashboard/html-template.js';
import { startTestServer, TEST_TOKEN } from './server-fixtures.js';

describe('dashboard pages', () => {
  it('serves the fleet page and an agent page as HTML with a fresh nonce each time', async () => {
    const { url } = await startTestServer();
    const fleet = await fetch(`${url}/`);
    expect(fleet.status).toBe(200);
    expect(fleet.headers.get('content-type')).toMatch(/text\/html/);
    const text = await fleet.text();
    expect(text).toContain('<table id="fleet">');
    // The overview above the table: cards, the runs and failures charts, the workers.
    for (const id of ['overview-cards', 'runs-chart', 'failures-chart', 'workers']) {
      expect(text).toContain(`id="${id}"`);
    }
    const nonce = /<script nonce="([^"]+)">/.exec(text)?.[1];
    expect(fleet.headers.get('content-security-policy')).toContain(`'nonce-${nonce}'`);
    const again = await (await fetch(`${url}/`)).text();
    expect(/<script nonce="([^"]+)">/.exec(again)?.[1]).not.toBe(nonce);

    const agent = await fetch(`${url}/agents/disk_check`);
    expect(agent.status).toBe(200);
    const agentText = await agent.text();
    expect(agentText).toContain('data-agent-id="disk_check"');
    expect(agentText).not.toContain(TEST_TOKEN);
  });

  it('escapes what it renders from the request', async () => {
    const { url } = await startTestServer();
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const page = await (await fetch(`${url}/agents/${encodeURIComponent(hostile)}`)).text();
    expect(page).not.toContain('<script>alert(1)');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('data-agent-id="&quot;&gt;&lt;script&gt;');
  });

  it('escapes every interpolated value of a page template', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${['<u>', 1]}${null}</p>`.text).toBe(
      '<p><b>&lt;i&gt;</b>&lt;u&gt;1</p>',
    );
  });
});
