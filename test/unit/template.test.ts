// lib/cli/template.ts, gofmt.ts, format.ts: Go's text/template as Docker's --format runs it.
// Expected strings were produced by Go itself (the docker 28 client's --format on its own
// data: `docker version --format`, `docker context inspect -f`, `docker context ls --format`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTemplate, TemplateParseError, TemplateExecError } from '../../lib/cli/template';
import { TYPE, formatFloat, quote } from '../../lib/cli/gofmt';
import { tabwrite, formatList, asMaps, inspectOne, humanSize } from '../../lib/cli/format';

const run = (src: string, data: unknown = {}) => parseTemplate(src).execute(data);
const execErr = (src: string, data: unknown = {}, missingKey?: 'error') => {
  try { parseTemplate(src).execute(data, { missingKey }); } catch (e) { assert.instance(e, TemplateExecError); return (e as Error).message; }
  throw new Error(`no error for ${src}`);
};
const parseErr = (src: string) => {
  try { parseTemplate(src); } catch (e) { assert.instance(e, TemplateParseError); return (e as Error).message; }
  throw new Error(`no parse error for ${src}`);
};

// Go's context.contextWithTLSListing as `docker context inspect default` shows it
const ctx = {
  [TYPE]: 'context.contextWithTLSListing', Name: 'default',
  Endpoints: new Map([['docker', { Host: 'unix:///var/run/docker.sock', SkipTLSVerify: false }]]),
  Storage: { [TYPE]: 'store.StorageInfo', MetadataPath: '<IN MEMORY>', TLSPath: '<IN MEMORY>' },
};

test('fields, maps, structs and slices print as Go prints them', () => {
  assert.is(run('{{.Name}}|{{.Endpoints}}|{{.Storage}}|{{printf "%+v" .Storage}}|{{json .Endpoints}}', ctx),
    'default|map[docker:{unix:///var/run/docker.sock false}]|{<IN MEMORY> <IN MEMORY>}|{MetadataPath:<IN MEMORY> TLSPath:<IN MEMORY>}|{"docker":{"Host":"unix:///var/run/docker.sock","SkipTLSVerify":false}}');
  assert.is(run('{{.Endpoints.docker.Host}} {{.Endpoints.nope}} {{.Endpoints.nope.x}} {{index .Endpoints "nope"}}', ctx), 'unix:///var/run/docker.sock <no value> <no value> <no value>');
  assert.is(run('{{.}}', [1, 'a', null, [true, 2.5]]), '[1 a <nil> [true 2.5]]');
  assert.is(run('{{.}} {{.X}}', new Map([['b', 2], ['a', 1], ['X', null]])), 'map[X:<nil> a:1 b:2] <no value>');
  assert.is(run('{{1e6}} {{1.5}} {{0.000001}} {{100000.0}} {{0x1F}} {{1_000}} {{\'a\'}} {{-5}} {{+3}} {{1e3}} {{.5}} {{0b101}} {{0o17}}'),
    '1e+06 1.5 1e-06 100000 31 1000 97 -5 3 1000 0.5 5 15');
  assert.is(run('{{"\\x41\\u00e9"}} {{`raw\\n`}}'), 'Aé raw\\n');
});

test('missing fields: Go\'s errors, with line, column and the node', () => {
  assert.is(execErr('{{.Name}} {{.Foo}}', ctx), 'template: :1:12: executing "" at <.Foo>: can\'t evaluate field Foo in type context.contextWithTLSListing');
  assert.is(execErr('a\n  {{.Nope}}', ctx), 'template: :2:4: executing "" at <.Nope>: can\'t evaluate field Nope in type context.contextWithTLSListing');
  assert.is(execErr('{{.Name.Foo}}', ctx), 'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type string');
  assert.is(execErr('{{$.Name}}{{$.Nope}}', ctx), 'template: :1:13: executing "" at <$.Nope>: can\'t evaluate field Nope in type context.contextWithTLSListing');
  assert.is(execErr('{{.Name "x"}}', ctx), 'template: :1:2: executing "" at <.Name>: Name has arguments but cannot be invoked as function');
  assert.is(execErr('{{.Endpoints.docker "x"}}', ctx), 'template: :1:12: executing "" at <.Endpoints.docker>: docker is not a method but has arguments');
  // missingkey=error, as docker inspect's fallback over plain JSON runs it
  assert.is(execErr('{{.State.Nope}}', asMaps({ State: { Pid: 1 } }), 'error'), 'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"');
  assert.is(execErr('{{.Seccomp.Sha256}}', asMaps({ Seccomp: null }), 'error'), 'template: :1:10: executing "" at <.Seccomp.Sha256>: nil data; no entry for key "Sha256"');
});

test('function errors and argument types as Go words them', () => {
  assert.is(execErr('{{index .Name 10}}', ctx), 'template: :1:2: executing "" at <index .Name 10>: error calling index: index out of range: 10');
  assert.is(execErr('{{len .Storage}}', ctx), 'template: :1:2: executing "" at <len .Storage>: error calling len: len of type store.StorageInfo');
  assert.is(execErr('{{lower 1}}', ctx), 'template: :1:8: executing "" at <1>: expected string; found 1');
  assert.is(execErr('{{join .Name ","}}', ctx), 'template: :1:7: executing "" at <.Name>: wrong type for value; expected []string; got string');
  assert.is(execErr('{{index .Storage 1}}', ctx), 'template: :1:2: executing "" at <index .Storage 1>: error calling index: can\'t index item of type store.StorageInfo');
  assert.is(execErr('{{range .Name}}{{end}}', ctx), 'template: :1:8: executing "" at <.Name>: range can\'t iterate over default');
  assert.is(execErr('{{eq .Name 1}}', ctx), 'template: :1:2: executing "" at <eq .Name 1>: error calling eq: incompatible types for comparison');
  assert.is(execErr('{{lt .Storage 1}}', ctx), 'template: :1:2: executing "" at <lt .Storage 1>: error calling lt: invalid type for comparison');
  assert.is(execErr('{{printf}}'), 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0');
  assert.is(execErr('{{"x" | len 1}}'), 'template: :1:8: executing "" at <len>: wrong number of args for len: want 1 got 2');
  assert.is(execErr('{{nil}}'), 'template: :1:2: executing "" at <nil>: nil is not a command');
  // what was printed before the failure is kept (Docker's info prints it)
  try { run('ab{{.X}}cd'); } catch (e: any) { assert.is(e.partial, 'ab'); }
});

test('methods: a struct\'s functions are called with the arguments given', () => {
  const row = { [TYPE]: '*formatter.ContainerContext', Names: 'web', Label: (k: string) => (k === 'a' ? 'b' : '') };
  assert.is(run('{{.Names}} {{.Label "a"}}|{{.Label "z"}}|{{"a" | .Label}}', row), 'web b||b');
  assert.is(execErr('{{.Label}}', row), 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0');
});

test('parse errors: one line, Go\'s words', () => {
  const cases: [string, string][] = [
    ['{{.Nope', 'unclosed action'], ['{{if .X}}', 'unexpected EOF'], ['{{end}}', 'unexpected {{end}}'], ['{{else}}', 'unexpected {{else}}'],
    ['{{.X}', "bad character U+007D '}'"], ['{{foo}}', 'function "foo" not defined'], ['{{$x}}', 'undefined variable "$x"'],
    ['{{range}}', 'missing value for range'], ['{{"abc}}', 'unterminated quoted string'], ['{{break}}', '{{break}} outside {{range}}'],
    ['{{(1}}', 'unclosed left paren'], ['{{1)}}', 'unexpected right paren'], ['{{printf "x" | 3}}', 'non executable command in pipeline stage 2'],
    ['{{range $a, $b, $c := .}}{{end}}', 'too many declarations in range'], ['{{/* unclosed', 'unclosed comment'],
    ['{{/* c */ x}}', 'comment ends before closing delimiter'], ['{{ | .X}}', 'unexpected "|" in command'], ['{{end x}}', 'unexpected "x" in end'],
    ['{{@}}', 'unexpected "@" in command'], ['a\nb {{.X', 'unclosed action'],
  ];
  for (const [src, msg] of cases) assert.is(parseErr(src), `template: :${src.startsWith('a\n') ? 2 : 1}: ${msg}`, src);
  assert.is(run('{{.X | }}', { X: 1 }), '1'); // Go accepts an empty last stage
});

test('control structures, variables, trim markers, comments', () => {
  assert.is(run('{{- "  trimmed  " -}}   x   {{- /* comment */ -}}  y {{/* c2 */}} z'), '  trimmed  xy  z');
  assert.is(run('{{range $i, $e := split "a,b,c" ","}}{{$i}}={{$e}};{{end}}|{{range split "x y" " "}}[{{.}}]{{end}}|{{range split "" "x"}}E{{else}}none{{end}}'), '0=a;1=b;2=c;|[x][y]|E'); // split "" gives [""], as in Go
  assert.is(run('{{range .}}{{.}}{{else}}none{{end}}', []), 'none');
  assert.is(run('{{range $k, $v := .}}{{$k}}={{$v}} {{end}}', new Map([['b', 2], ['a', 1]])), 'a=1 b=2 ');
  assert.is(run('{{if eq 1 2}}a{{else if eq 1 1}}b{{else}}c{{end}}|{{with "w"}}{{.}}{{end}}|{{with ""}}x{{else}}empty{{end}}|{{if and 1 0}}t{{else}}f{{end}}|{{or 0 "" "z"}}|{{and 1 2 3}}|{{not 0}}'), 'b|w|empty|f|z|3|true');
  assert.is(run('{{range 3}}{{.}}{{end}}|{{range $i, $e := split "a b c d" " "}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$e}}{{end}}'), '012|ac');
  assert.is(run('{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}{{if true}}{{$x = 3}}{{$y := 4}}{{$y}}{{end}}{{$x}}'), '1243');
  assert.is(run('{{if 0.0}}y{{else}}n{{end}}{{if "0"}}y{{end}}{{if (split "" "x")}}y{{end}}{{if .}}s{{end}}', {}), 'nyys');
  assert.is(run('{{with $x := .A}}{{$x}}{{.}}{{end}}', { A: 'q' }), 'qq');
});

test('printf, print, println and the builtins agree with Go', () => {
  assert.is(run('{{printf "%5.2f|%q|%v|%d" 3.14159 "x" (split "a:b" ":") 7}}'), ' 3.14|"x"|[a b]|7');
  assert.is(run('{{printf "%s %d" "a"}}|{{printf "%d" "a"}}|{{printf "x" 1 "y"}}|{{printf "%-5s|%5s|%05d|%x|%X|%o|%b|%c|%U" "ab" "cd" 42 255 255 8 5 65 65}}'),
    'a %!d(MISSING)|%!d(string=a)|x%!(EXTRA int=1, string=y)|ab   |   cd|00042|ff|FF|10|101|A|U+0041');
  assert.is(run('{{printf "%v %v %v %.3g %g %e %E %G" 1.0 2.5 100000000.0 3.14159 0.00001 1234.5678 1234.5678 1e20}}'), '1 2.5 1e+08 3.14 1e-05 1.234568e+03 1.234568E+03 1E+20');
  assert.is(run('{{printf "%t %v %q %#v %T %T %T" true nil \'x\' "q" 1 1.5 "s"}}'), 'true <nil> \'x\' "q" int float64 string');
  assert.is(run('{{printf "%6.2f|%-8.3f|%+d|% d|%3c|%-4q|%x" 3.14159 2.5 5 7 66 "a" "hi"}}'), '  3.14|2.500   |+5| 7|  B|"a" |6869');
  assert.is(run('{{printf "%s" (split "a b" " ")}}|{{printf "%q" (split "a b" " ")}}|{{printf "%d" 1.5}}|{{printf "%s" 1}}'), '[a b]|["a" "b"]|%!d(float64=1.5)|%!s(int=1)');
  assert.is(run('{{printf "%5.1s|%.0f|%.1f|%g|%g|%g" "abc" 2.5 0.05 100000.0 1000000.0 0.0001}}'), '    a|2|0.1|100000|1e+06|0.0001');
  assert.is(run('{{print 1 2 "a" "b" 3 true false}}|{{println 1 "a" 2}}|{{print}}|{{print nil 1}}'), '1 2ab3 true false|1 a 2\n||<nil> 1');
  assert.is(run('{{len "héllo"}} {{len (split "a b c" " ")}} {{index (split "a b c" " ") 1}} {{index "abc" 1}} {{slice "abcdef" 1 3}} {{slice (split "a b c d" " ") 1 3}}'), '6 3 b 98 bc [b c]');
  assert.is(run('{{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true true true true true false');
  assert.is(run('{{html "<a href=\'x\'>&\\"</a>"}}|{{js "it\'s \\"q\\" <x> \\n"}}|{{urlquery "a b&c=d/é"}}'),
    '&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;|it\\\'s \\"q\\" \\u003Cx\\u003E \\u000A|a+b%26c%3Dd%2F%C3%A9');
  assert.is(run('{{"a" | printf "%s-%s" "b"}}|{{3 | printf "%d%d" 4}}'), 'b-a|43');
});

test("Docker's functions: json split join title lower upper pad truncate", () => {
  assert.is(run('{{json "a<b>"}} {{json 1}} {{json 1.5}} {{json (split "a b" " ")}} {{json nil}} {{json true}}'), '"a<b>" 1 1.5 ["a","b"] null true');
  assert.is(run('{{title "hello wORLD foo_bar x-y it\'s"}}|{{upper "abc"}}|{{lower "ABC"}}|{{pad "x" 2 3}}|{{pad "" 2 3}}|{{truncate "abcdef" 3}}|{{truncate "ab" 3}}|{{truncate "abc" 3}}'),
    "Hello WORLD Foo_bar X-Y It'S|ABC|abc|  x   ||abc|ab|abc");
  assert.is(run('{{join (split "a:b:c" ":") "-"}}'), 'a-b-c');
  assert.is(run('{{json .}}', { B: 1, A: [1, 'x'], M: new Map([['z', 1], ['a', 2]]), F: () => 1 }), '{"B":1,"A":[1,"x"],"M":{"a":2,"z":1}}');
});

test('values: Go\'s float text and strconv.Quote', () => {
  assert.is(formatFloat(1e21), '1e+21');
  assert.is(formatFloat(123456789), '1.23456789e+08');
  assert.is(formatFloat(0.0001), '0.0001');
  assert.is(quote('a"b\\\n\t\x01é\u2028'), '"a\\"b\\\\\\n\\t\\x01é\\u2028"');
  assert.is(humanSize(0), '0B');
  assert.is(humanSize(4_261_440), '4.26MB');
  assert.is(humanSize(123_456_789), '123MB');
});

test('tabwriter: Docker\'s table alignment (min width 10, padding 3, last cell unpadded)', () => {
  // docker context ls --format 'table {{.Name}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Current}}'
  assert.is(tabwrite('NAME\tDESCRIPTION\tDOCKER ENDPOINT\t<no value>\ndefault\tCurrent DOCKER_HOST based configuration\tunix:///var/run/docker.sock\ttrue\n'),
    'NAME      DESCRIPTION                               DOCKER ENDPOINT               <no value>\ndefault   Current DOCKER_HOST based configuration   unix:///var/run/docker.sock   true\n');
  // a trailing tab makes the last column a padded one
  assert.is(tabwrite('NAME\t<no value>\t\ndefault\ttrue\t\n'), 'NAME      <no value>   \ndefault   true         \n');
  // a line without tabs ends the block: the lines after it align on their own
  assert.is(tabwrite('a\tb\nxx\nlonger-than-ten\tc\n'), 'a         b\nxx\nlonger-than-ten   c\n');
});

test('formatList: "table" header from the column names, \\t written as two characters, errors as Docker words them', () => {
  const rows = [{ [TYPE]: '*formatter.ContainerContext', ID: 'abc', Names: 'one' }, { [TYPE]: '*formatter.ContainerContext', ID: 'defghijklmnop', Names: 'two' }];
  const header = { ID: 'CONTAINER ID', Names: 'NAMES' };
  assert.is(formatList('ps', 'table {{.ID}}\\t{{.Names}}', rows, header), 'CONTAINER ID    NAMES\nabc             one\ndefghijklmnop   two\n');
  assert.is(formatList('ps', '{{.Names}}', rows, header), 'one\ntwo\n');
  assert.is(formatList('ps', 'table {{.Names}}', [], header), 'NAMES\n');
  // Docker's header functions leave names whole; a field without a column name is <no value> there
  assert.is(formatList('ps', 'table {{upper .Names}}\t{{.ID}}x', rows.slice(0, 1), { Names: 'NAMES' }), 'NAMES     <no value>x\nONE       abcx\n');
  assert.throws(() => formatList('ps', '{{.Nope}}', rows, header), (e: any) => e.status === 1 && e.message === 'box ps: template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  assert.throws(() => formatList('ps', '{{.Nope', rows, header), (e: any) => e.status === 1 && e.message === 'box ps: template parsing error: template: :1: unclosed action');
});

test('inspectOne: a missing field is retried over the JSON as maps, as docker inspect does', () => {
  const d = { State: { Pid: 42, Running: true }, Config: { Cmd: ['sleep', '1'] } };
  const t = (src: string) => inspectOne('inspect', parseTemplate(src), d, d);
  assert.is(t('{{.State.Pid}} {{.State.Running}} {{json .Config.Cmd}} {{join .Config.Cmd " "}}'), '42 true ["sleep","1"] sleep 1');
  assert.throws(() => t('{{.State.Nope}}'), (e: any) => e.status === 1 && e.message === 'box inspect: template parsing error: template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"');
});

test.run();
