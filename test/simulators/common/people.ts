// Names for generated people, shared so that a demo's Okta users, Jamf
// computer owners and AuditComply auditors read alike.

import type { Rng } from './random.js';

const FIRST_NAMES = [
  'Ada', 'Amara', 'Ben', 'Carla', 'Chen', 'Dana', 'Diego', 'Elif', 'Emma', 'Farah', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Ivan',
  'Jade', 'Jonas', 'Kai', 'Kofi', 'Lara', 'Leo', 'Maya', 'Mateo', 'Nadia', 'Noah', 'Olga', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami',
  'Sofia', 'Tariq', 'Uma', 'Victor', 'Wen', 'Yara', 'Yusuf', 'Zoe',
] as const;

const LAST_NAMES = [
  'Abara', 'Berg', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jansen', 'Kowalski', 'Larsen', 'Mensah',
  'Novak', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Sato', 'Tanaka', 'Usman', 'Varga', 'Walsh', 'Xu', 'Yilmaz', 'Zhang', 'Murphy',
  'Nguyen', 'Silva', 'Khan',
] as const;

export interface Person {
  firstName: string;
  lastName: string;
}

export function randomPerson(rng: Rng): Person {
  return { firstName: rng.pick(FIRST_NAMES), lastName: rng.pick(LAST_NAMES) };
}

/** `first.last` in lower case: the local part of generated logins and e-mail addresses. */
export function handleOf(person: Person): string {
  return `${person.firstName}.${person.lastName}`.toLowerCase();
}
