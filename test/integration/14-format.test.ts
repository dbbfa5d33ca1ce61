// --format / -f with Go templates (issue 15), against real containers: inspect per container,
// ps and images per row with Docker's field names and 'table' headers, stats, info; Docker's
// statuses: a template that does not parse is 64 for inspect/info and 1 for list verbs, a
// missing field is 1 — one line on stderr each time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, removeAll, TOP, UNTIL_TERM, cmdline } from '../helpers/box';

const NAMES = ['fmt-a', 'fmt-b'];

test.before(() => {
  removeAll(...NAMES);
  const a = box(['run', '-d', '--name', 'fmt-a', '-m', '64m', 'busybox', 'sh', '-c', UNTIL_TERM]);
  assert.is(a.status, 0, a.stderr);
  const b = box(['create', '--name', 'fmt-b', 'busybox', 'echo', 'a b']);
  assert.is(b.status, 0, b.stderr);
});
test.after(() => removeAll(...NAMES));

test("inspect -f '{{.State.Pid}}' is the container's PID 1 on the host; one line per container", () => {
  const r = box(['inspect', '-f', '{{.State.Pid}}', 'fmt-a']);
  assert.is(r.status, 0, r.stderr);
  const pid = Number(r.stdout);
  assert.match(r.stdout, /^\d+\n$/);
  assert.ok(pid > 1);
  assert.match(cmdline(pid), /^sh\b/, `pid ${pid} is the container's sh`);
  assert.is(pid, JSON.parse(box(['inspect', 'fmt-a']).stdout)[0].State.Pid);
  const two = box(['inspect', '--format', '{{.Name}} {{.State.Status}} {{json .Config.Cmd}} {{.HostConfig.Memory}} {{index .Config.Cmd 0}}', 'fmt-a', 'fmt-b']);
  assert.is(two.stdout, `/fmt-a running ["sh","-c","${UNTIL_TERM.replace(/"/g, '\\"')}"] 67108864 sh\n/fmt-b created ["echo","a b"] 0 echo\n`);
  assert.is(box(['inspect', '-f', '{{if .State.Running}}up{{else}}down{{end}} {{range .Config.Cmd}}[{{.}}]{{end}}', 'fmt-b']).stdout, 'down [echo][a b]\n');
  // json: the same array, compact
  assert.is(JSON.parse(box(['inspect', '-f', 'json', 'fmt-b']).stdout)[0].Name, '/fmt-b');
});

test('inspect: a missing field is exit 1 (the map key named); a template that does not parse is 64; one line each', () => {
  const miss = box(['inspect', '-f', '{{.State.Nope}}', 'fmt-a']);
  assert.is(miss.status, 1);
  assert.is(miss.stderr, 'box inspect: template parsing error: template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"\n');
  const bad = box(['inspect', '-f', '{{.State.Pid', 'fmt-a']);
  assert.is(bad.status, 64);
  assert.is(bad.stderr, 'box inspect: template parsing error: template: :1: unclosed action\n');
  assert.is(bad.stdout, '');
});

test("ps -a --format '{{.Names}}' lists exactly the names; Docker's fields; 'table' aligns with Docker's headers", () => {
  const r = box(['ps', '-a', '--format', '{{.Names}}']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).sort(), [...NAMES].sort());
  assert.is(box(['ps', '--format', '{{.Names}}']).stdout, 'fmt-a\n', 'running ones only without -a');
  const id = JSON.parse(box(['inspect', 'fmt-b']).stdout)[0].Id;
  const row = box(['ps', '-a', '--format', '{{.ID}}|{{.Image}}|{{.Command}}|{{.State}}|{{.Status}}|{{.Ports}}|{{.Labels}}|{{.Networks}}|{{.RunningFor}}|{{.CreatedAt}}']).stdout
    .split('\n').find((l) => l.startsWith(id.slice(0, 12)))!;
  assert.match(row, new RegExp(`^${id.slice(0, 12)}\\|busybox\\|"echo a b"\\|created\\|Created\\|\\|\\|none\\|(Less than a second|\\d+ seconds?) ago\\|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d{4} \\w+$`));
  assert.match(box(['ps', '-a', '--no-trunc', '--format', '{{.ID}}']).stdout, new RegExp(`^${id}$`, 'm'));
  const t = box(['ps', '-a', '--format', 'table {{.ID}}\\t{{.Names}}\\t{{.State}}']);
  assert.is(t.status, 0, t.stderr);
  const lines = t.stdout.split('\n');
  assert.is(lines[0], 'CONTAINER ID   NAMES     STATE');
  assert.match(t.stdout, new RegExp(`^${id.slice(0, 12)}   fmt-b     created$`, 'm'));
  assert.match(t.stdout, /^[0-9a-f]{12}   fmt-a     running$/m);
  const j = box(['ps', '-a', '--format', '{{json .}}']).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(Object.keys(j[0]), ['Command', 'CreatedAt', 'HealthStatus', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
});

test('ps: a missing field is exit 1, a bad template 1 (Docker: a plain error), one line on stderr and nothing on stdout', () => {
  const miss = box(['ps', '--format', '{{.Nope}}']);
  assert.is(miss.status, 1);
  assert.is(miss.stderr, 'box ps: template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext\n');
  assert.is(miss.stdout, '');
  const bad = box(['ps', '--format', '{{if .Names}}x']);
  assert.is(bad.status, 1);
  assert.is(bad.stderr, 'box ps: template parsing error: template: :1: unexpected EOF\n');
  // the plain 'table' is the default table, json stays box's
  assert.match(box(['ps', '--format', 'table']).stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
  assert.is(JSON.parse(box(['ps', '--format', 'json']).stdout.split('\n')[0]).Names, 'fmt-a');
});

test('images --format: Repository, Tag, ID, Size over an imported image; a table', () => {
  const imp = box(['import', path.join(TOP, 'images/busybox.tar.gz'), 'fmt/busybox:v1']);
  assert.is(imp.status, 0, imp.stderr);
  try {
    const line = box(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.CreatedSince}}']).stdout.split('\n').find((l) => l.startsWith('fmt/busybox:v1 '));
    assert.match(line ?? '', /^fmt\/busybox:v1 [0-9a-f]{12} [\d.]+[kMG]?B (Less than a second|\d+ seconds?|About a minute) ago$/);
    const t = box(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}']).stdout.split('\n');
    assert.is(t[0], 'REPOSITORY    TAG');
    assert.ok(t.includes('fmt/busybox   v1'), t.join('\n'));
  } finally {
    box(['rmi', 'fmt/busybox:v1']);
  }
});

test('stats --no-stream --format: Docker fields, a table, json', () => {
  const r = box(['stats', '--no-stream', '--format', '{{.Name}} {{.Container}} {{.PIDs}} {{.MemUsage}}', 'fmt-a']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^fmt-a fmt-a [12] [\d.]+\w+ \/ 64MiB\n$/);
  const t = box(['stats', '--no-stream', '--format', 'table {{.Name}}\\t{{.CPUPerc}}', 'fmt-a']).stdout.split('\n');
  assert.is(t[0], 'NAME      CPU %');
  assert.match(t[1], /^fmt-a     [\d.]+%$/);
  const j = JSON.parse(box(['stats', '--no-stream', '--format', 'json', 'fmt-a']).stdout);
  assert.is(j.Name, 'fmt-a');
  assert.is(j.ID.length, 12);
  assert.is(box(['stats', '--no-stream', '--format', '{{.Nope', 'fmt-a']).status, 1);
});

test('info --format: fields of the object --format json prints; 64 when it does not parse', () => {
  const j = JSON.parse(box(['info', '--format', 'json']).stdout);
  const r = box(['info', '--format', '{{.kernel}} {{.cgroup.mode}} {{index .namespaces "pid"}} {{.seccomp.enabled}}']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `${j.kernel} ${j.cgroup.mode} ${j.namespaces.pid} ${j.seccomp.enabled}\n`);
  assert.is(box(['info', '--format', '{{json .namespaces}}']).stdout, JSON.stringify(Object.fromEntries(Object.entries(j.namespaces).sort())) + '\n');
  const bad = box(['info', '--format', '{{.kernel']);
  assert.is(bad.status, 64);
  assert.is(bad.stderr, 'box info: template parsing error: template: :1: unclosed action\n');
  const miss = box(['info', '--format', 'k={{.nope}}']);
  assert.is(miss.status, 1);
  assert.is(miss.stdout, 'k=\n'); // Go prints up to the failure
  assert.match(miss.stderr, /^box info: template: :1:4: executing "" at <\.nope>: can't evaluate field nope in type info\n$/);
});

test.run();
