import { isDeepStrictEqual } from 'node:util';

// The subset of Kubernetes' JSONSchemaProps this API uses, plus three keys that never reach the CRD:
// `title` names generated TypeScript interfaces, `tsType` maps pass-through Kubernetes core types to
// @kubernetes/client-node types, and `operatorDefault` marks a default the operator fills in instead
// of the API server. All three are stripped by the CRD and validator views.

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export type CelReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** One `x-kubernetes-validations` entry exactly as the API server reads it. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: CelReason;
}

/** Operator-wide settings that may replace a built-in default of the spec (OperatorDefault.setting). */
export type OperatorDefaultSetting = 'kesImage' | 'minioImage';
export type OperatorDefaults = Record<OperatorDefaultSetting, string>;

/**
 * A default the operator applies when it reads the spec, instead of a CRD `default:`. The API server
 * would store a CRD default in every object, so an operator-wide setting could never apply; this one
 * is never stored: the operator's `setting` (flag `flag`) wins when set, else `value`.
 */
export interface OperatorDefault {
  setting: OperatorDefaultSetting;
  flag: string;
  value: string;
}

export interface JSONSchema {
  type?: SchemaType;
  title?: string;
  tsType?: string;
  operatorDefault?: OperatorDefault;
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  items?: JSONSchema;
  additionalProperties?: JSONSchema | boolean;
  enum?: (string | number)[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: true;
}

/**
 * The TypeScript twin of a CEL rule: `self` is the value at the node carrying the rule, `oldSelf`
 * the previous value on updates (only transition rules read it). Returns true when the rule holds.
 */
export type CelMirror = (self: never, oldSelf?: unknown) => boolean;

const mirrors = new WeakMap<CelRule, { mirror: CelMirror; transition: boolean }>();

/**
 * Declares a CEL rule together with its TypeScript mirror, so the operator can report the same
 * violation for objects that reached it without passing the API server (e.g. written before the
 * CRD had the rule).
 */
export function celRule<T>(rule: CelRule, mirror: (self: T, oldSelf?: unknown) => boolean): CelRule {
  const entry: CelRule = { ...rule };
  mirrors.set(entry, { mirror: mirror as CelMirror, transition: /\boldSelf\b/.test(rule.rule) });
  return entry;
}

export function mirrorOf(rule: CelRule): { mirror: CelMirror; transition: boolean } | undefined {
  return mirrors.get(rule);
}

/** A field that may be set once and never changed, because changing it would orphan encrypted data. */
export function immutable(why: string): CelRule {
  return celRule({ rule: 'self == oldSelf', message: `is immutable: ${why}` },
    (self: unknown, oldSelf?: unknown) => isDeepStrictEqual(self, oldSelf));
}
