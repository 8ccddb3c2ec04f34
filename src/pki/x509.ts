// The one place that loads @peculiar/x509: its ASN.1 schema decorators need reflect-metadata first, and
// its default WebCrypto provider must be Node's. Every other PKI module imports the library from here.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
