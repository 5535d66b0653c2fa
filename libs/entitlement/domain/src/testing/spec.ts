// Imported by path: the `@custos/platform/testing` index also loads infrastructure starters
// that may not be present; given/when/then needs none of them.
export { deciderSpec } from '../../../../platform/testing/src/given-when-then';
