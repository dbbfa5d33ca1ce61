// lib/net/rtnetlink.ts's builders byte for byte, and lib/libc/netlink.ts's reply parsing on
// crafted buffers (acks, errors, dumps, lies about lengths and sequence numbers), without a socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as rt from '../../lib/net/rtnetlink';
import { parseReplies, NetlinkError, NLMSG_ERROR, NLMSG_DONE, NLM_F_MULTI, type NlMsg } from '../../lib/libc/netlink';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('a bridge request, byte for byte: header, ifinfomsg, name padded, IFLA_LINKINFO nesting IFLA_INFO_KIND', () => {
  assert.equal(rt.createBridgeMsg('box0'), hex(`
    3c000000 1000 0506 00000000 00000000
    00000000 00000000 00000000 00000000
    0900 0300 626f7830 00 000000
    1000 1200  0b00 0100 627269646765 00 00`));
});

test('rtattr: length without padding, data padded to 4; nest counts its children with their padding', () => {
  assert.equal(rt.rtattr(1, Buffer.from([1])), hex('0500 0100 01 000000'));
  assert.equal(rt.rtattr(2, Buffer.alloc(4, 0xff)), hex('0800 0200 ffffffff'));
  assert.equal(rt.rtattr(3, Buffer.alloc(0)), hex('0400 0300'));
  assert.equal(rt.nest(9, [rt.rtattr(1, Buffer.from([1])), rt.rtattr(2, Buffer.from([2, 2]))]), hex('1400 0900 0500 0100 01000000 0600 0200 02020000'));
});

test('a veth request: the peer is a whole ifinfomsg + IFLA_IFNAME inside VETH_INFO_PEER inside IFLA_INFO_DATA', () => {
  const m = rt.createVethMsg('veth-h', 'veth-p');
  assert.is(m.readUInt32LE(0), m.length);
  assert.is(m.length % 4, 0);
  const top = rt.parseAttrs(m, 32);
  assert.is(top.get(rt.IFLA_IFNAME)!.toString(), 'veth-h\0');
  const info = rt.parseAttrs(top.get(rt.IFLA_LINKINFO)!);
  assert.is(info.get(rt.IFLA_INFO_KIND)!.toString(), 'veth\0');
  const peer = rt.parseAttrs(info.get(rt.IFLA_INFO_DATA)!).get(rt.VETH_INFO_PEER)!;
  assert.equal(peer.subarray(0, 16), Buffer.alloc(16));
  assert.is(rt.parseAttrs(peer, 16).get(rt.IFLA_IFNAME)!.toString(), 'veth-p\0');
});

test('struct sizes and fields: ifinfomsg 16, ifaddrmsg 8, rtmsg 12', () => {
  assert.equal(rt.ifinfomsg(7, 1, 1), hex('00 00 0000 07000000 01000000 01000000'));
  assert.equal(rt.ifaddrmsg(24, 3), hex('02 18 00 00 03000000'));
  assert.equal(rt.rtmsg(0), hex('02 00 00 00 fe 03 00 01 00000000'));
});

/** A fake socket: records requests, answers GETLINK by name with index 5. */
function fake() {
  const sent: Buffer[] = [];
  const nl: rt.Netlink = {
    request(msg) {
      sent.push(msg);
      if (msg.readUInt16LE(4) !== rt.RTM_GETLINK) return [];
      return [{ type: rt.RTM_NEWLINK, flags: 0, payload: Buffer.concat([rt.ifinfomsg(5, 1, 0), rt.rtattr(rt.IFLA_IFNAME, rt.strz('br'))]) }];
    },
  };
  return { nl, sent };
}

test('operations: setLinkUp by name or index, setMaster and addAddress resolve names, the default route', () => {
  const { nl, sent } = fake();
  rt.setLinkUp(nl, 'eth0');
  assert.equal(sent[0], Buffer.concat([hex('2c000000 1000 0500 00000000 00000000'), rt.ifinfomsg(0, 1, 1), hex('0900 0300 65746830 00000000')]));
  rt.setLinkUp(nl, 9);
  assert.equal(sent[1], Buffer.concat([hex('20000000 1000 0500 00000000 00000000'), rt.ifinfomsg(9, 1, 1)]));
  rt.setMaster(nl, 4, 'br');
  assert.is(sent[2].readUInt16LE(4), rt.RTM_GETLINK);
  assert.equal(rt.parseAttrs(sent[3], 32).get(rt.IFLA_MASTER), hex('05000000'));
  rt.addAddress(nl, 'br', '10.99.0.1/24');
  assert.equal(sent[5], Buffer.concat([hex('28000000 1400 0506 00000000 00000000 02 18 00 00 05000000'), hex('0800 0200 0a630001 0800 0100 0a630001')]));
  rt.addDefaultRoute(nl, '10.99.0.254');
  assert.equal(sent[6], Buffer.concat([hex('24000000 1800 0506 00000000 00000000'), rt.rtmsg(0), hex('0800 0500 0a6300fe')]));
  rt.moveToNetns(nl, 'x', 12);
  assert.equal(rt.parseAttrs(sent[7], 32).get(rt.IFLA_NET_NS_FD), hex('0c000000'));
  assert.is(rt.linkIndex(nl, 'br'), 5);
});

/** One reply message: nlmsghdr(len, type, flags, seq, pid 0) + payload. */
const msg = (type: number, seq: number, payload: Buffer, flags = 0, len = 16 + payload.length) => {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(len, 0); h.writeUInt16LE(type, 4); h.writeUInt16LE(flags, 6); h.writeUInt32LE(seq, 8);
  return Buffer.concat([h, payload]);
};
const errPayload = (err: number) => { const b = Buffer.alloc(20); b.writeInt32LE(err, 0); return b; };

test('replies: an ACK ends a request; an error names the operation and the errno', () => {
  assert.equal(parseReplies(msg(NLMSG_ERROR, 7, errPayload(0)), 7, 'op'), { msgs: [], done: true });
  try {
    parseReplies(msg(NLMSG_ERROR, 7, errPayload(-17)), 7, 'create bridge box0');
    assert.unreachable();
  } catch (e: any) {
    assert.instance(e, NetlinkError);
    assert.is(e.message, 'netlink: create bridge box0: EEXIST (file already exists)');
    assert.is(e.code, 'EEXIST');
    assert.is(e.status, 125);
  }
  const link = msg(rt.RTM_NEWLINK, 7, rt.ifinfomsg(3));
  const r = parseReplies(Buffer.concat([link, msg(NLMSG_ERROR, 7, errPayload(0))]), 7, 'op');
  assert.is(r.msgs.length, 1);
  assert.is(rt.parseLink(r.msgs[0]).index, 3);
});

test("extended acks: the kernel's text after the errno, after a capped or a whole echoed request; malformed text is dropped", () => {
  const text = rt.rtattr(1, rt.strz('Unknown device type'));
  const capped = Buffer.concat([hex('a1ffffff'), msg(rt.RTM_NEWLINK, 7, Buffer.alloc(0)), text]);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, capped, 0x300), 7, 'create x'), /^netlink: create x: EOPNOTSUPP \(operation not supported\): Unknown device type$/);
  const whole = Buffer.concat([hex('a1ffffff'), msg(rt.RTM_NEWLINK, 7, rt.ifinfomsg()), text]);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, whole, 0x200), 7, 'create x'), /: Unknown device type$/);
  const lying = Buffer.concat([hex('a1ffffff'), msg(rt.RTM_NEWLINK, 7, Buffer.alloc(0)), hex('ff00 0100 41424344')]);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, lying, 0x300), 7, 'create x'), /^netlink: create x: EOPNOTSUPP \(operation not supported\)$/);
  const echoTooLong = Buffer.concat([hex('a1ffffff'), msg(rt.RTM_NEWLINK, 7, Buffer.alloc(0), 0, 5000), text]);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, echoTooLong, 0x200), 7, 'create x'), /^netlink: create x: EOPNOTSUPP \(operation not supported\)$/);
});

test('a dump: NLM_F_MULTI messages over datagrams, complete only at NLMSG_DONE, whose error counts', () => {
  const one = msg(rt.RTM_NEWLINK, 9, Buffer.concat([rt.ifinfomsg(1, 1), rt.rtattr(rt.IFLA_IFNAME, rt.strz('lo'))]), NLM_F_MULTI);
  assert.equal(parseReplies(Buffer.concat([one, one]), 9, 'list').done, false);
  const r = parseReplies(Buffer.concat([one, msg(NLMSG_DONE, 9, Buffer.alloc(4), NLM_F_MULTI)]), 9, 'list');
  assert.is(r.done, true);
  assert.equal(r.msgs.map((m: NlMsg) => rt.parseLink(m)), [{ index: 1, name: 'lo', up: true, master: undefined, kind: undefined }]);
  assert.throws(() => parseReplies(msg(NLMSG_DONE, 9, hex('fcffffff')), 9, 'list'), /netlink: list: EINTR/);
});

test('replies that lie are refused before use: sequence, header, lengths', () => {
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 8, errPayload(0)), 7, 'op'), /netlink: op: malformed reply \(sequence 8, expected 7\)/);
  assert.throws(() => parseReplies(Buffer.alloc(10), 7, 'op'), /truncated header/);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, errPayload(0), 0, 200), 7, 'op'), /message length 200/);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, errPayload(0), 0, 8), 7, 'op'), /message length 8/);
  assert.throws(() => parseReplies(msg(NLMSG_ERROR, 7, Buffer.alloc(0)), 7, 'op'), /short NLMSG_ERROR/);
  assert.throws(() => rt.parseAttrs(hex('0900 0300 6c6f00')), /malformed attribute \(length 9 at 0 of 7\)/);
  assert.throws(() => rt.parseAttrs(hex('0200 0300')), /malformed attribute/);
  assert.throws(() => rt.parseLink({ type: rt.RTM_NEWLINK, flags: 0, payload: Buffer.alloc(8) }), /malformed link message/);
});

test('interface names: 1–15 bytes of [a-zA-Z0-9_.-]; IPv4 CIDRs', () => {
  for (const ok of ['box0', 'a.b-c_1', 'x'.repeat(15)]) assert.is(rt.checkIfName(ok), ok);
  for (const bad of ['', 'x'.repeat(16), 'a/b', 'a b', '.', '..', 'é', 'a\0b', 'eth0:1'])
    assert.throws(() => rt.checkIfName(bad), /^invalid interface name .*: 1 to 15 of \[a-zA-Z0-9_.-\]$/, bad);
  assert.throws(() => rt.createBridgeMsg('a/b'), /invalid interface name "a\/b"/);
  assert.equal(rt.parseCidr('10.99.0.1/24'), { addr: Buffer.from([10, 99, 0, 1]), prefix: 24 });
  for (const bad of ['10.99.0.1', '10.99.0.256/24', '10.99.0.1/33', '1.2.3/8', ' 1.2.3.4/8'])
    assert.throws(() => rt.parseCidr(bad), /invalid IPv4 address/, bad);
});

/** An RTM_NEWROUTE payload: rtmsg(family, dst_len, table) + attributes. */
const route = (family: number, dstLen: number, table: number, attrs: Buffer[]) => {
  const r = Buffer.alloc(12);
  r.writeUInt8(family, 0); r.writeUInt8(dstLen, 1); r.writeUInt8(table, 4);
  return { type: rt.RTM_NEWROUTE, flags: NLM_F_MULTI, payload: Buffer.concat([r, ...attrs]) };
};

test('listRoutes: one IPv4 dump request; main-table routes with destination, link and gateway; other tables and families left out', () => {
  const sent: Buffer[] = [];
  const replies = [
    route(2, 0, 254, [rt.rtattr(rt.RTA_GATEWAY, hex('0a000001')), rt.rtattr(rt.RTA_OIF, hex('02000000'))]),
    route(2, 24, 254, [rt.rtattr(rt.RTA_DST, hex('0a000000')), rt.rtattr(rt.RTA_OIF, hex('02000000'))]),
    route(2, 16, 252, [rt.rtattr(rt.RTA_DST, hex('ac110000')), rt.rtattr(rt.RTA_TABLE, hex('fe000000'))]), // table 254 only in RTA_TABLE: it wins
    route(2, 32, 255, [rt.rtattr(rt.RTA_DST, hex('7f000001'))]), // the local table
    route(2, 8, 254, [rt.rtattr(rt.RTA_DST, hex('0b000000')), rt.rtattr(rt.RTA_TABLE, hex('e8030000'))]), // table 1000
    route(10, 64, 254, [rt.rtattr(rt.RTA_DST, Buffer.alloc(16))]),
  ];
  const nl: rt.Netlink = { request(msg) { sent.push(msg); return replies; } };
  assert.equal(rt.listRoutes(nl), [
    { dst: '0.0.0.0/0', oif: 2, gateway: '10.0.0.1' },
    { dst: '10.0.0.0/24', oif: 2, gateway: undefined },
    { dst: '172.17.0.0/16', oif: undefined, gateway: undefined },
  ]);
  assert.equal(sent, [hex('1c000000 1a00 0103 00000000 00000000 02000000 00000000 00000000')]);
  assert.throws(() => rt.parseRoute({ type: rt.RTM_NEWROUTE, flags: 0, payload: Buffer.alloc(8) }), /malformed route message/);
  assert.throws(() => rt.parseRoute(route(2, 40, 254, [])), /prefix length 40/);
});

test('findLink: a link, or undefined for ENODEV; deleteAddress names the address on its link', () => {
  const sent: Buffer[] = [];
  const nl: rt.Netlink = {
    request(msg, op) {
      sent.push(msg);
      if (op === 'find link none') throw new NetlinkError(op, 19);
      if (msg.readUInt16LE(4) !== rt.RTM_GETLINK) return [];
      return [{ type: rt.RTM_NEWLINK, flags: 0, payload: Buffer.concat([rt.ifinfomsg(5, 1, 0), rt.rtattr(rt.IFLA_IFNAME, rt.strz('br')), rt.nest(rt.IFLA_LINKINFO, [rt.rtattr(rt.IFLA_INFO_KIND, rt.strz('bridge'))])]) }];
    },
  };
  assert.equal(rt.findLink(nl, 'br'), { index: 5, name: 'br', up: true, master: undefined, kind: 'bridge' });
  assert.is(rt.findLink(nl, 'none'), undefined);
  rt.deleteAddress(nl, 'br', '10.99.0.1/24');
  assert.equal(sent.at(-1), Buffer.concat([hex('28000000 1500 0500 00000000 00000000 02 18 00 00 05000000'), hex('0800 0200 0a630001 0800 0100 0a630001')]));
});

test.run();
