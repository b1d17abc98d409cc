/**
 * MQTT over TLS on Node.js (MQTT 3.1.1 §4.2 / 5.0 §4.2 network connections,
 * port 8883; §5.4.3 authentication of the server by the client), as a
 * fieldmq {@link Transport}.
 *
 * @example
 * ```ts
 * const t = new NodeTlsTransport({ host: 'broker.example', port: 8883, ca: readFileSync('ca.pem') });
 * t.open(); // Open after the handshake ('secureConnect')
 * ```
 */
import tls from 'node:tls';
import { NodeSocketTransport, type NodeStreamOptions } from './socket';

/** Options of {@link NodeTlsTransport}: the stream options plus the `tls.connect` ones it passes on. */
export interface NodeTlsOptions extends NodeStreamOptions {
  /** Trusted CA certificate(s), PEM; default: Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain, PEM (mutual TLS). */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Client private key, PEM (mutual TLS). */
  key?: string | Buffer | Array<string | Buffer>;
  /** SNI server name and the name the certificate is checked against; default: `host` (Node omits SNI for IP addresses). */
  servername?: string;
  /** Reject a certificate that does not verify against `ca`; default `true`. Turn off only for tests. */
  rejectUnauthorized?: boolean;
  /** ALPN protocol names (e.g. `['x-amzn-mqtt-ca']` for MQTT on port 443 at AWS IoT). */
  alpnProtocols?: string[];
}

/**
 * A `tls.TLSSocket` (Node docs, `tls.connect(options)`) behind the
 * {@link Transport} contract. `state()` stays Opening through the handshake
 * and becomes Open on `'secureConnect'`; a certificate that does not verify
 * fails the link (Closed, the reason in `lastError`).
 */
export class NodeTlsTransport extends NodeSocketTransport {
  protected readonly openEvent = 'secureConnect';
  private readonly opts: NodeTlsOptions;

  constructor(options: NodeTlsOptions) {
    super(options);
    this.opts = options;
  }

  protected connect(): tls.TLSSocket {
    const o = this.opts;
    const co: tls.ConnectionOptions = {
      host: o.host,
      port: o.port,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    };
    if (o.ca !== undefined) co.ca = o.ca;
    if (o.cert !== undefined) co.cert = o.cert;
    if (o.key !== undefined) co.key = o.key;
    if (o.servername !== undefined) co.servername = o.servername;
    if (o.alpnProtocols !== undefined) co.ALPNProtocols = o.alpnProtocols;
    return tls.connect(co);
  }
}
