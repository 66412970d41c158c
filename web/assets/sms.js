// Character and part counter for an SMS, following the daemon's own plan (src/modem/pdu.cpp,
// 3GPP TS 23.038): GSM-7 when every character is in the default alphabet or its extension table
// (extension characters cost two septets), UCS-2 otherwise (characters beyond U+FFFF cost two
// units). One part holds 160 septets or 70 UCS-2 units; a long message is split into parts of
// 153 or 67 (a concatenation header takes the rest), and a character is never split across parts.

const GSM7_DEFAULT =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const defaultSet = new Set(GSM7_DEFAULT);
const extensionSet = new Set(GSM7_EXTENSION);

export const MAX_PARTS = 255;

function gsm7Cost(ch) {
  if (defaultSet.has(ch)) return 1;
  if (extensionSet.has(ch)) return 2;
  return 0;
}

/**
 * Returns {encoding: 'GSM-7'|'UCS-2', chars, units, parts, perPart, left, nonGsm}.
 * `left` is what still fits in the last part; `nonGsm` lists (up to 8) characters that forced UCS-2.
 */
export function planSms(text) {
  const chars = [...text]; // code points
  const nonGsm = [];
  for (const ch of chars) {
    if (gsm7Cost(ch) === 0 && !nonGsm.includes(ch)) {
      nonGsm.push(ch);
      if (nonGsm.length >= 8) break;
    }
  }
  const gsm = nonGsm.length === 0;
  const cost = gsm ? gsm7Cost : (ch) => (ch.codePointAt(0) > 0xffff ? 2 : 1);
  let units = 0;
  for (const ch of chars) units += cost(ch);

  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  const perPart = units > single ? multi : single;
  let parts = 1;
  let used = 0;
  for (const ch of chars) {
    const c = cost(ch);
    if (used + c > perPart && used > 0) {
      parts += 1;
      used = 0;
    }
    used += c;
  }
  return {
    encoding: gsm ? 'GSM-7' : 'UCS-2',
    chars: chars.length,
    units,
    parts,
    perPart,
    left: perPart - used,
    nonGsm,
  };
}

/** One line for the person typing, e.g. "42 characters · GSM-7 · 1 part · 118 left in this part". */
export function describePlan(plan) {
  const bits = [
    `${plan.chars} character${plan.chars === 1 ? '' : 's'}`,
    plan.encoding,
    `${plan.parts} part${plan.parts === 1 ? '' : 's'}`,
    `${plan.left} left in this part`,
  ];
  return bits.join(' · ');
}
