import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedReadTool } from '../../src/tools/built-in/index.js';
import { runTool, startLocalServer, toolContext, type LocalServer } from './tool-harness.js';

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Ops &amp; News</title>
    <link>https://news.example.test/</link>
    <item>
      <title>Older post</title>
      <link>https://news.example.test/older</link>
      <pubDate>Mon, 03 Jun 2024 08:00:00 GMT</pubDate>
      <description>&lt;p&gt;The &lt;b&gt;old&lt;/b&gt; news.&lt;/p&gt;</description>
    </item>
    <item>
      <title>Newest post</title>
      <link>https://news.example.test/newest</link>
      <pubDate>Wed, 05 Jun 2024 10:30:00 +0200</pubDate>
      <description><![CDATA[<p>Fresh <em>news</em> with <a href="https://x.test">a link</a>.</p>]]></description>
    </item>
    <item>
      <title>Middle post</title>
      <guid isPermaLink="true">https://news.example.test/middle</guid>
      <pubDate>Tue, 04 Jun 2024 12:00:00 GMT</pubDate>
      <description>${'long words '.repeat(100)}</description>
    </item>
    <item>
      <title>Undated post</title>
      <link>https://news.example.test/undated</link>
    </item>
  </channel>
</rss>`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Release notes</title>
  <link rel="self" href="https://releases.example.test/feed.atom"/>
  <link href="https://releases.example.test/"/>
  <entry>
    <title type="html">v1.0 &lt;i&gt;stable&lt;/i&gt;</title>
    <link rel="alternate" href="/releases/1.0"/>
    <published>2024-05-01T00:00:00Z</published>
    <summary type="html">&lt;ul&gt;&lt;li&gt;First stable release&lt;/li&gt;&lt;/ul&gt;</summary>
  </entry>
  <entry>
    <title>v1.1</title>
    <link href="https://releases.example.test/releases/1.1"/>
    <updated>2024-06-01T12:00:00Z</updated>
    <content type="html">&lt;p&gt;Bug fixes&lt;/p&gt;</content>
  </entry>
</feed>`;

const allowed = toolContext({ allow_hosts: ['127.0.0.1'] });
let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer((request, response) => {
    if (request.path === '/rss.xml') {
      response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
    } else if (request.path === '/feed.atom') {
      response.writeHead(200, { 'content-type': 'application/atom+xml' }).end(ATOM);
    } else if (request.path === '/not-a-feed') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>hi</body></html>');
    } else {
      response.writeHead(404).end();
    }
  });
});
afterAll(() => server.close());

interface FeedResult {
  feed: { title: string; format: string };
  items: Array<{
    title: string;
    link: string | null;
    published: string | null;
    summary: string | null;
  }>;
  total_items: number;
  undated_items_left_out?: number;
}

describe('feed_read', () => {
  it('reads RSS 2.0 newest first, with HTML stripped from summaries', async () => {
    const result = (await runTool(
      feedReadTool,
      { url: `${server.origin}/rss.xml` },
      allowed,
    )) as FeedResult;
    expect(result.feed).toMatchObject({ title: 'Ops & News', format: 'rss' });
    expect(result.items.map((item) => item.title)).toEqual([
      'Newest post',
      'Middle post',
      'Older post',
      'Undated post',
    ]);
    expect(result.items[0]).toEqual({
      title: 'Newest post',
      link: 'https://news.example.test/newest',
      published: '2024-06-05T08:30:00.000Z',
      summary: 'Fresh news with a link [https://x.test].',
    });
    expect(result.items[1]?.link).toBe('https://news.example.test/middle');
    expect(result.items[2]?.summary).toBe('The old news.');
    expect(result.items[3]?.published).toBeNull();
  });

  it('caps summaries with a marker', async () => {
    const result = (await runTool(
      feedReadTool,
      { url: `${server.origin}/rss.xml`, summary_chars: 50 },
      allowed,
    )) as FeedResult;
    const middle = result.items.find((item) => item.title === 'Middle post');
    // 1,099 characters of text (trimmed), cut at 50.
    expect(middle?.summary).toBe(
      `${'long words '.repeat(4)}long w…[truncated: 1049 more characters]`,
    );
  });

  it('keeps only items published after `since`, and applies `limit`', async () => {
    const result = (await runTool(
      feedReadTool,
      { url: `${server.origin}/rss.xml`, since: '2024-06-03T08:00:00Z', limit: 1 },
      allowed,
    )) as FeedResult & { matching_items: number };
    expect(result.items.map((item) => item.title)).toEqual(['Newest post']);
    expect(result.matching_items).toBe(2);
    expect(result.undated_items_left_out).toBe(1);
  });

  it('reads Atom, taking the alternate link, made absolute, and updated when not published', async () => {
    const result = (await runTool(
      feedReadTool,
      { url: `${server.origin}/feed.atom` },
      allowed,
    )) as FeedResult;
    expect(result.feed).toMatchObject({ title: 'Release notes', format: 'atom' });
    expect(result.items).toEqual([
      {
        title: 'v1.1',
        link: 'https://releases.example.test/releases/1.1',
        published: '2024-06-01T12:00:00.000Z',
        summary: 'Bug fixes',
      },
      {
        title: 'v1.0 stable',
        link: `${server.origin}/releases/1.0`,
        published: '2024-05-01T00:00:00.000Z',
        summary: '* First stable release',
      },
    ]);
  });

  it('says what is wrong with a document that is not a feed, or a failed fetch', async () => {
    await expect(
      runTool(feedReadTool, { url: `${server.origin}/not-a-feed` }, allowed),
    ).rejects.toThrow('not an RSS or Atom feed');
    await expect(runTool(feedReadTool, { url: `${server.origin}/gone` }, allowed)).rejects.toThrow(
      'the feed answered HTTP 404',
    );
  });

  it('refuses loopback feeds unless allowed', async () => {
    await expect(
      runTool(feedReadTool, { url: `${server.origin}/rss.xml` }, toolContext()),
    ).rejects.toThrow('refused: 127.0.0.1 is a loopback address');
  });
});
