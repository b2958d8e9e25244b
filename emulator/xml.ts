import type { AwsError } from './aws-errors.js';
import type { ServiceName } from './types.js';

/** The awsQuery XML namespace and API version of each service. */
export const SERVICE_PROTOCOL: Readonly<Record<ServiceName, { namespace: string; version: string }>> = {
  iam: { namespace: 'https://iam.amazonaws.com/doc/2010-05-08/', version: '2010-05-08' },
  sts: { namespace: 'https://sts.amazonaws.com/doc/2011-06-15/', version: '2011-06-15' },
};

/** Escapes element text (never used in attributes, so quotes stay as AWS prints them). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** AWS's timestamp form in IAM and STS answers: ISO-8601, whole seconds, UTC. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An element holding escaped text; `undefined` renders nothing, as AWS omits absent fields. */
export function textElement(name: string, value: string | number | boolean | Date | undefined): string {
  if (value === undefined) return '';
  const text = value instanceof Date ? formatTimestamp(value) : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** An element around already-rendered children. */
export function element(name: string, ...children: string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

/** A list in awsQuery's shape: `<Name><member>…</member>…</Name>`. */
export function memberList(name: string, members: readonly string[]): string {
  return element(name, ...members.map((member) => element('member', member)));
}

/**
 * A successful answer. Actions without output (UpdateAccessKey, DeleteAccessKey) have no
 * `<XxxResult>` element, as in AWS.
 */
export function renderResponse(
  service: ServiceName,
  action: string,
  result: string | null,
  requestId: string,
): string {
  const { namespace } = SERVICE_PROTOCOL[service];
  const resultElement = result === null ? '' : element(`${action}Result`, result);
  return (
    `<${action}Response xmlns="${namespace}">` +
    resultElement +
    element('ResponseMetadata', textElement('RequestId', requestId)) +
    `</${action}Response>`
  );
}

export function renderError(service: ServiceName, error: AwsError, requestId: string): string {
  const { namespace } = SERVICE_PROTOCOL[service];
  return (
    `<ErrorResponse xmlns="${namespace}">` +
    element(
      'Error',
      textElement('Type', error.type),
      textElement('Code', error.code),
      textElement('Message', error.message),
    ) +
    textElement('RequestId', requestId) +
    '</ErrorResponse>'
  );
}
