import { describe, expect, it } from 'vitest';
import { parsePahoGatewayConf, pahoReferencedFiles, pahoToConfig } from '../../../gateway/config/paho';
import { configError, fixture } from './helpers';

const full = () => parsePahoGatewayConf(fixture('gateway.conf'), 'gateway.conf');
const conf = (text: string) => pahoToConfig(parsePahoGatewayConf(text, 'gateway.conf'));

describe('parsePahoGatewayConf › Paho-format file', () => {
  it('reads Key=Value lines, skipping # comments and blank lines', () => {
    const c = full();
    expect(c.entries.get('GatewayID')).toEqual({ value: '7', line: 7 });
    expect(c.entries.get('BrokerName')?.value).toBe('broker.example.net');
    expect(c.entries.has('RootCAfile')).toBe(false); // commented out
  });

  it('takes everything after the first "=" as the value, # included (no inline comments)', () => {
    expect(full().entries.get('Password')).toEqual({ value: 's3cr#t=42', line: 12 });
  });

  it('warns about keys fieldmq knows but does not use, with their lines', () => {
    const messages = full().warnings.map((w) => w.message);
    expect(messages).toContain('gateway.conf:67: DtlsCertsKey: ignored: DTLS sensor links are not supported');
    expect(messages.some((m) => m.startsWith('gateway.conf:82: ShearedMemory: ignored'))).toBe(true);
  });

  it('ignores a trailing ";" on numbers, as Paho\'s atoi does, with a warning', () => {
    const c = full();
    expect(c.entries.get('MaxNumberOfClients')?.value).toBe('30');
    expect(c.warnings.map((w) => w.message)).toContain('gateway.conf:9: MaxNumberOfClients: trailing ";" ignored');
  });

  it('keeps the first of duplicate keys, as Paho does, and warns', () => {
    const c = parsePahoGatewayConf('GatewayID=1\nGatewayID=2\n', 'gateway.conf');
    expect(c.entries.get('GatewayID')?.value).toBe('1');
    expect(c.warnings[0]?.message).toBe('gateway.conf:2: GatewayID: duplicate; the value on line 1 is used (as in Paho)');
  });

  it('reads older Paho spellings as the current key, with a warning', () => {
    const c = parsePahoGatewayConf('AggregateGateway=YES\nCertsKey=/k/cert.pem\n', 'gateway.conf');
    expect(c.entries.get('AggregatingGateway')?.value).toBe('YES');
    expect(c.entries.get('CertKey')?.value).toBe('/k/cert.pem');
    expect(c.warnings.map((w) => w.message)).toEqual([
      'gateway.conf:1: AggregateGateway: read as AggregatingGateway',
      'gateway.conf:2: CertsKey: read as CertKey',
    ]);
  });

  it('keeps quotes as part of string values (Paho does not strip them) and says so', () => {
    const c = parsePahoGatewayConf('LoginID="me"\n', 'gateway.conf');
    expect(c.entries.get('LoginID')?.value).toBe('"me"');
    expect(c.warnings[0]?.message).toContain('quotes are part of the value');
  });
});

describe('parsePahoGatewayConf › errors', () => {
  it('rejects an unknown key with its line and a "did you mean" suggestion', () => {
    const e = configError(() => parsePahoGatewayConf('# c\nGatewayID=1\nBrokerPort=1883\n', 'gateway.conf'));
    expect(e.message).toBe('gateway.conf:3: BrokerPort: unknown key (did you mean "BrokerPortNo"?)');
    expect([e.line, e.key]).toEqual([3, 'BrokerPort']);
  });

  it('suggests the right case for a mis-cased key', () => {
    expect(configError(() => parsePahoGatewayConf('gatewayid=1', 'gateway.conf')).message).toBe(
      'gateway.conf:1: gatewayid: unknown key (did you mean "GatewayID"?)',
    );
  });

  it('rejects an unknown key without a suggestion when nothing is close', () => {
    expect(configError(() => parsePahoGatewayConf('\nFavouriteColour=blue', 'gateway.conf')).message).toBe(
      'gateway.conf:2: FavouriteColour: unknown key',
    );
  });

  it('rejects a line without "="', () => {
    expect(configError(() => parsePahoGatewayConf('GatewayID 1', 'gateway.conf')).message).toBe(
      'gateway.conf:1: GatewayID 1: expected Key=Value',
    );
  });
});

describe('pahoToConfig › values from the fixture', () => {
  const { config, warnings } = pahoToConfig(full());

  it('maps gateway identity, limits and modes', () => {
    expect(config.gatewayId).toBe(7);
    expect(config.gatewayName).toBe('PahoGateway-07');
    expect(config.maxClients).toBe(30);
    expect(config.mode).toBe('transparent');
    expect(config.qosMinus1).toBe(true);
    expect(config.forwarder).toBe(true); // "yes": Paho compares case-insensitively
    expect(config.authentication).toBe(true);
  });

  it('maps the broker link: plain TCP on BrokerPortNo, LoginID/Password, KeepAlive', () => {
    expect(config.broker).toEqual({
      url: 'mqtt://broker.example.net:1883',
      host: 'broker.example.net',
      port: 1883,
      tls: null,
      username: 'gw-user',
      password: 's3cr#t=42',
      protocolVersion: 4,
      keepAlive: 60,
    });
  });

  it('enables only UDP by default (Paho\'s default build), from GatewayPortNo and Multicast*', () => {
    expect(config.udp).toEqual({ port: 10000, multicastIp: '225.1.1.1', multicastPort: 1883, multicastTtl: 1 });
    expect(config.udp6).toBeNull();
    expect(config.xbee).toBeNull();
  });

  it('enables UDP6 and XBee when asked, from their Paho keys', () => {
    const c = pahoToConfig(full(), { sensorNetworks: ['udp6', 'xbee'] }).config;
    expect(c.udp).toBeNull();
    expect(c.udp6).toEqual({ port: 10000, multicastIp: 'ff1e:feed:caca:dead::1', multicastPort: 1883, interface: 'wlp4s0', multicastHops: 1 });
    expect(c.xbee).toEqual({ path: '/dev/ttyUSB0', baud: 38400, apiMode: 2 });
  });

  it('carries the parse warnings', () => {
    expect(warnings.length).toBeGreaterThanOrEqual(4);
  });

  it('asks for the client list and the predefined topic list named in the file', () => {
    expect(pahoReferencedFiles(full())).toEqual({
      clientsList: { path: 'clients.conf', line: 38, required: true },
      predefinedTopicList: { path: 'predefinedTopic.conf', line: 39, required: true },
    });
  });
});

describe('pahoToConfig › defaults', () => {
  it('fills fieldmq defaults and Paho\'s NO for absent booleans', () => {
    const { config } = conf('');
    expect(config.gatewayId).toBe(1);
    expect(config.udp).toEqual({ port: 1884, multicastIp: '225.1.1.1', multicastPort: 1883, multicastTtl: 1 });
    expect(config.broker).toBeNull(); // embedded broker
    expect(config.qosMinus1).toBe(false);
    expect(config.forwarder).toBe(false);
    expect(config.authentication).toBe(false);
    expect(config.advertiseInterval).toBe(900);
    expect(config.logLevel).toBe('info');
  });

  it('reads no lists from the stock file, whose booleans are all NO', () => {
    expect(pahoReferencedFiles(parsePahoGatewayConf(fixture('stock-gateway.conf'), 'gateway.conf'))).toEqual({
      clientsList: null,
      predefinedTopicList: null,
    });
  });

  it('uses Paho\'s default list names when the keys are absent', () => {
    const refs = pahoReferencedFiles(parsePahoGatewayConf('PredefinedTopic=YES\nForwarder=YES\n', 'gateway.conf'));
    expect(refs.predefinedTopicList).toEqual({ path: 'predefinedTopic.conf', line: 0, required: true });
    expect(refs.clientsList).toEqual({ path: 'clients.conf', line: 0, required: false });
  });

  it('uses TLS on BrokerSecurePortNo when TLS files are set, and warns that BrokerPortNo is unused', () => {
    const { config, warnings } = conf(
      'BrokerName=b.example\nBrokerPortNo=1883\nBrokerSecurePortNo=8884\nRootCAfile=/etc/ssl/ca.pem\nCertKey=c.pem\nPrivateKey=k.pem\nMQTTVersion=5\n',
    );
    expect(config.broker?.url).toBe('mqtts://b.example:8884');
    expect(config.broker?.tls).toEqual({ ca: '/etc/ssl/ca.pem', caPath: null, cert: 'c.pem', key: 'k.pem' });
    expect(config.broker?.protocolVersion).toBe(5);
    expect(warnings[0]?.message).toMatch(/^gateway\.conf:2: BrokerPortNo: ignored: fieldmq keeps one broker link/);
  });

  it('maps AggregatingGateway=YES to aggregating mode', () => {
    expect(conf('AggregatingGateway=YES').config.mode).toBe('aggregating');
  });

  it('treats an empty LoginID as no user name', () => {
    expect(conf('BrokerName=b\nLoginID=\n').config.broker?.username).toBeNull();
  });

  it('warns that broker keys are unused without BrokerName (embedded broker)', () => {
    const { config, warnings } = conf('BrokerPortNo=1883');
    expect(config.broker).toBeNull();
    expect(warnings[0]?.message).toBe('gateway.conf:1: BrokerPortNo: ignored: no BrokerName, so the embedded broker is used');
  });
});

describe('pahoToConfig › value errors name file, line and key', () => {
  const cases: Array<[string, string, string]> = [
    ['port that is not a number', 'GatewayID=1\nBrokerName=b\nBrokerPortNo=abc', 'gateway.conf:3: BrokerPortNo: expected a port number 1..65535, got "abc"'],
    ['port out of range', 'GatewayPortNo=70000', 'gateway.conf:1: GatewayPortNo: expected a port number 1..65535, got "70000"'],
    ['gateway id 0', 'GatewayID=0', 'gateway.conf:1: GatewayID: expected a gateway id 1..255, got "0"'],
    ['gateway id over one octet', 'GatewayID=256', 'gateway.conf:1: GatewayID: expected a gateway id 1..255, got "256"'],
    ['boolean not YES/NO', '\nQoS-1=true', 'gateway.conf:2: QoS-1: expected YES or NO, got "true"'],
    ['unknown baud rate', 'Baudrate=12345', 'gateway.conf:1: Baudrate: expected a baud rate (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600), got "12345"'],
    ['API mode 3', 'ApiMode=3', 'gateway.conf:1: ApiMode: expected an XBee API mode 1..2, got "3"'],
    ['multicast address not IPv4', 'MulticastIP=225.1.1', 'gateway.conf:1: MulticastIP: expected an IPv4 address, got "225.1.1"'],
    ['multicast TTL 0', 'MulticastTTL=0', 'gateway.conf:1: MulticastTTL: expected an integer 1..255, got "0"'],
    ['KeepAlive over 16 bits', 'BrokerName=b\nKeepAlive=65536', 'gateway.conf:2: KeepAlive: expected seconds 0..65535, got "65536"'],
    ['negative MaxNumberOfClients', 'MaxNumberOfClients=-1', 'gateway.conf:1: MaxNumberOfClients: expected an integer 1..65535, got "-1"'],
    ['cert without key', 'BrokerName=b\nCertKey=c.pem', 'gateway.conf:2: CertKey: CertKey and PrivateKey must be given together'],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects a ${what}`, () => {
      expect(configError(() => conf(text)).message).toBe(message);
    });
  }

  it('requires SerialDevice for the XBee network (not line-specific)', () => {
    const e = configError(() => pahoToConfig(parsePahoGatewayConf('Baudrate=9600', 'gateway.conf'), { sensorNetworks: ['xbee'] }));
    expect(e.message).toBe('gateway.conf: SerialDevice: is required for the XBee sensor network');
    expect(e.line).toBe(0);
  });
});
