/** A domain event as deciders emit it: a past-tense name and its payload (the store adds the envelope). */
export interface DomainEvent<Type extends string, Data> {
  type: Type;
  data: Data;
}
