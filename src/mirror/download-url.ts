// Where an upstream's .crate files are: its config.json's `dl` template with cargo's markers
// ({crate}, {version}, {prefix}, {lowerprefix}, {sha256-checksum}), or, without any marker,
// `<dl>/{crate}/{version}/download`, exactly as cargo builds it.

function prefixOf(name: string): string {
  switch (name.length) {
    case 1:
      return '1';
    case 2:
      return '2';
    case 3:
      return `3/${name[0]}`;
    default:
      return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
  }
}

export function crateDownloadUrl(dl: string, name: string, version: string, cksum: string): string {
  const markers = ['{crate}', '{version}', '{prefix}', '{lowerprefix}', '{sha256-checksum}'];
  if (!markers.some((m) => dl.includes(m))) return `${dl.replace(/\/+$/, '')}/${name}/${version}/download`;
  return dl
    .replaceAll('{crate}', name)
    .replaceAll('{version}', version)
    .replaceAll('{prefix}', prefixOf(name))
    .replaceAll('{lowerprefix}', prefixOf(name.toLowerCase()))
    .replaceAll('{sha256-checksum}', cksum);
}
