/** The kit's self-signed Ed25519 certificate: parsed by Node's X509Certificate, checked field by field, the same for the same seed. */
import * as crypto from "crypto";
import { NO_EXPIRY, ed25519KeyFromSeed, selfSignedEd25519 } from "../../components/kit/self-signed";

const SEED = Buffer.from("a1".repeat(32), "hex");
const SPEC = {
  commonName: "node-exporter",
  dnsNames: ["node-exporter.monitoring-agents.svc", "other.example"],
  notBefore: new Date(Date.UTC(2026, 0, 1)),
  notAfter: NO_EXPIRY,
};

describe("selfSignedEd25519", () => {
  const made = selfSignedEd25519(SEED, SPEC);
  const cert = new crypto.X509Certificate(made.certPem);

  test("subject and issuer are the common name: it is signed by itself", () => {
    expect(cert.subject).toBe("CN=node-exporter");
    expect(cert.issuer).toBe("CN=node-exporter");
    expect(cert.verify(cert.publicKey)).toBe(true);
    // Not an issuer of others (no keyCertSign): a client trusts this very certificate, as Prometheus' ca_file.
    expect(cert.checkIssued(cert)).toBe(false);
  });

  test("the subjectAltName lists the DNS names, which a client's host check accepts, and no other", () => {
    expect(cert.subjectAltName).toBe("DNS:node-exporter.monitoring-agents.svc, DNS:other.example");
    expect(cert.checkHost("node-exporter.monitoring-agents.svc")).toBe("node-exporter.monitoring-agents.svc");
    expect(cert.checkHost("node-exporter.monitoring-staging-agents.svc")).toBeUndefined();
  });

  test("valid from the given date to RFC 5280's no-expiry date (GeneralizedTime past 2049)", () => {
    expect(new Date(cert.validFrom).toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(new Date(cert.validTo).toISOString()).toBe("9999-12-31T23:59:59.000Z");
    const short = new crypto.X509Certificate(selfSignedEd25519(SEED, { ...SPEC, notAfter: new Date(Date.UTC(2049, 5, 30, 12)) }).certPem);
    expect(new Date(short.validTo).toISOString()).toBe("2049-06-30T12:00:00.000Z");
  });

  test("its signature verifies with its own public key, the seed's Ed25519 key, and with no other", () => {
    expect(cert.publicKey.asymmetricKeyType).toBe("ed25519");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.verify(crypto.createPublicKey(ed25519KeyFromSeed(Buffer.alloc(32, 1))))).toBe(false);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(made.keyPem))).toBe(true);
    // The key is the seed's: RFC 8410's PKCS#8 carries the seed itself.
    const der = crypto.createPrivateKey(made.keyPem).export({ format: "der", type: "pkcs8" });
    expect(der.subarray(der.length - 32)).toEqual(SEED);
  });

  test("a server certificate, not a CA: serverAuth, digitalSignature, a positive serial", () => {
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(cert.serialNumber).toHaveLength(32);
  });

  test("the same seed and spec give the same bytes (Ed25519 signs deterministically); another seed, another key and serial", () => {
    expect(selfSignedEd25519(Buffer.from(SEED), { ...SPEC })).toEqual(made);
    const other = selfSignedEd25519(Buffer.alloc(32, 2), SPEC);
    expect(other.keyPem).not.toBe(made.keyPem);
    expect(new crypto.X509Certificate(other.certPem).serialNumber).not.toBe(cert.serialNumber);
  });

  test("a seed of another length is a programming error", () => {
    expect(() => ed25519KeyFromSeed(Buffer.alloc(31))).toThrow(/32 bytes, not 31/);
  });
});
