// The key under which a client address is counted by the rate limits and takes its turn at the
// token lookup gate. An IPv6 host usually holds a whole /64 (SLAAC, privacy addresses) and can send
// from any address in it: were each address counted apart, one host could step past every
// per-address limit by changing the low bits of its address. So an IPv6 address counts as its /64,
// and an IPv4-mapped one (::ffff:192.0.2.1, from a dual-stack socket) as its IPv4 address. Anything
// that is not an IPv6 address (IPv4, a test's placeholder) is its own key.

import { isIPv6 } from 'node:net';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The hextets of one side of `::` (an embedded IPv4 address counts as the two it fills). */
function hextets(part: string): string[] {
  if (part === '') return [];
  return part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
}

export function addressKey(address: string): string {
  const bare = address.split('%')[0]!; // a zone index (fe80::1%eth0) names an interface, not a host
  if (!isIPv6(bare)) return address;
  const mapped = IPV4_MAPPED.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const front = hextets(head);
  const back = tail === undefined ? [] : hextets(tail);
  const all = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${all
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
