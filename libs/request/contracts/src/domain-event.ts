/** The platform's event shape (`type` + `data`), re-exported for consumers of these contracts; declared once in @custos/platform/domain. */
export type { DomainEvent } from '@custos/platform/domain';
