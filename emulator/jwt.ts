import { createHmac, createPublicKey, createSign, timingSafeEqual, verify, constants } from "node:crypto";

/** A JSON Web Token's parts, decoded and unverified. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Decodes a compact JWT; `undefined` when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")),
      payload: JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")),
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], "base64url"),
    };
  } catch {
    return undefined;
  }
}

/** Signs the emulator's own access tokens (HS256 with a key that never leaves the process). */
export function signHs256(payload: Record<string, unknown>, key: Buffer): string {
  const input = `${b64url(JSON.stringify({ typ: "JWT", alg: "HS256" }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

/** Verifies an HS256 token from {@link signHs256}; returns its claims or `undefined`. */
export function verifyHs256(token: string, key: Buffer): Record<string, unknown> | undefined {
  const jwt = decodeJwt(token);
  if (!jwt || jwt.header.alg !== "HS256") return undefined;
  const expected = createHmac("sha256", key).update(jwt.signingInput).digest();
  return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature)
    ? jwt.payload
    : undefined;
}

/** Signs with an RSA private key (RS256): the emulator's stand-in OIDC issuer for workload identity. */
export function signRs256(payload: Record<string, unknown>, privateKeyPem: string, kid: string): string {
  const input = `${b64url(JSON.stringify({ typ: "JWT", alg: "RS256", kid }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createSign("sha256").update(input).sign(privateKeyPem, "base64url")}`;
}

/** Verifies an RS256 or PS256 signature (client assertions signed by MSAL) against a PEM certificate or key. */
export function verifyRsaSignature(jwt: DecodedJwt, publicPem: string): boolean {
  const key = createPublicKey(publicPem);
  const data = Buffer.from(jwt.signingInput);
  if (jwt.header.alg === "RS256") return verify("sha256", data, key, jwt.signature);
  if (jwt.header.alg === "PS256") {
    return verify(
      "sha256",
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
      jwt.signature,
    );
  }
  return false;
}
