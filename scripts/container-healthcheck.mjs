// The container image's HEALTHCHECK: the image has no curl, so Node asks the server's /healthz (no
// token needed) on the loopback address, on the port and scheme the server's own settings give. With
// TLS the certificate names the public host, not 127.0.0.1, so it is not checked: this only asks
// whether this process answers. Exit 0: healthy; 1: not.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const tls = Boolean(process.env.CRATEKEEPER_SERVER__TLS_CERT);
const port = Number(process.env.CRATEKEEPER_SERVER__PORT || 8000);
const request = tls ? httpsRequest : httpRequest;

const probe = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 4000, rejectUnauthorized: false }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
probe.on('timeout', () => probe.destroy(new Error('no answer')));
probe.on('error', (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exit(1);
});
probe.end();
