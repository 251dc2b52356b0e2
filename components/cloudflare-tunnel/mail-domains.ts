/**
 * The domains of public mail providers: anyone can open an address there, so an Access policy
 * that lets in one of these domains (cloudflare.access.emailDomains) lets in anyone. The list
 * docs/configuration.md shows (a test holds the two together); a domain not on it is taken as
 * an organisation's own.
 */
export const PUBLIC_MAIL_DOMAINS: readonly string[] = [
  "gmail.com",
  "googlemail.com",
  "outlook.com",
  "hotmail.com",
  "live.com",
  "msn.com",
  "yahoo.com",
  "ymail.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "aol.com",
  "proton.me",
  "protonmail.com",
  "pm.me",
  "tutanota.com",
  "tuta.io",
  "gmx.com",
  "gmx.net",
  "gmx.de",
  "web.de",
  "mail.com",
  "zoho.com",
  "yandex.com",
  "yandex.ru",
  "mail.ru",
  "fastmail.com",
  "hey.com",
  "qq.com",
  "163.com",
];

/** The domains of `emailDomains` that are a public mail provider's, in the order given. */
export function publicMailDomains(emailDomains: readonly string[]): string[] {
  return emailDomains.filter((domain) => PUBLIC_MAIL_DOMAINS.includes(domain.toLowerCase()));
}
