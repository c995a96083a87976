// Read-only helpers over jCal/jCard arrays (RFC 7265 / RFC 7095), the form ICAL.parse returns.
// Validation reads these arrays directly: wrapping every component and property in ical.js
// Component/Property objects cost about as much as parsing itself.

/** `[name, parameters, value type, ...values]`, names lower-case as ICAL.parse gives them. */
export type JcalProperty = [name: string, params: Record<string, unknown>, type: string, ...values: unknown[]];
/** `[name, properties, subcomponents]`. */
export type JcalComponent = [name: string, properties: JcalProperty[], components: JcalComponent[]];

/** The component's properties, or only those named `name` (lower-case). */
export function properties(c: JcalComponent, name?: string): JcalProperty[] {
  return name === undefined ? c[1] : c[1].filter((p) => p[0] === name);
}

/** The component's subcomponents, or only those named `name` (lower-case). */
export function subcomponents(c: JcalComponent, name?: string): JcalComponent[] {
  return name === undefined ? c[2] : c[2].filter((s) => s[0] === name);
}

export function firstProperty(c: JcalComponent, name: string): JcalProperty | null {
  for (const p of c[1]) if (p[0] === name) return p;
  return null;
}

/**
 * The first value of property `name` as text, or null when the property is absent. Structured
 * values (recurrence rules, periods) are rendered as JSON.
 */
export function firstValueText(c: JcalComponent, name: string): string | null {
  const p = firstProperty(c, name);
  if (p === null) return null;
  const value = p[3];
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
