import { deciderSpec } from '@custos/platform/domain/testing';
import type { IdentityCommand } from './commands';
import { DomainError } from '@custos/platform/domain';
import {
  ActivationBeforeStartDate,
  EmployeeIdMismatch,
  IdentityAlreadyExists,
  IdentityNotFound,
  InvalidLifecycleTransition,
  InvalidTimestamp,
} from '../errors';
import { identityDecider } from './index';
import {
  IDENTITY_ID,
  NOW,
  SCIM,
  activateIdentity,
  assignGroups,
  correctIdentityAttributes,
  employee,
  groupsAssigned,
  hireIdentity,
  identityActivated,
  identityAttributesCorrected,
  identityChangeSuperseded,
  identityHired,
  identityMoved,
  identityRehired,
  identityTerminated,
  june,
  linkManager,
  managerLinked,
  moveIdentity,
  rehireIdentity,
  terminateIdentity,
} from '../testing/builders';

const spec = deciderSpec(identityDecider);

describe('identity decider', () => {
  describe('no identity', () => {
    it('hires an active identity when the start is not ahead of now', () => {
      spec
        .given([])
        .when(hireIdentity({ effectiveAt: june(1), managerId: 'id-grace' }))
        .then([identityHired({ managerId: 'id-grace', effectiveAt: june(1), recordedAt: NOW })]);
    });

    it('hires a pending identity when the start is ahead of now', () => {
      spec
        .given([])
        .when(hireIdentity({ effectiveAt: june(30) }))
        .then([identityHired({ status: 'pending', effectiveAt: june(30), recordedAt: NOW })]);
    });

    it('hires with groups trimmed, deduplicated and sorted', () => {
      spec
        .given([])
        .when(hireIdentity({ groups: ['sales', ' eng ', 'eng', ''] }))
        .then([identityHired({ groups: ['eng', 'sales'], effectiveAt: NOW, recordedAt: NOW })]);
    });

    it('leaves absent optional attributes out of the snapshot', () => {
      spec
        .given([])
        .when(hireIdentity({ department: undefined, managerEmployeeId: undefined, employmentType: 'contractor' }))
        .then([
          identityHired({
            department: undefined,
            managerEmployeeId: undefined,
            employmentType: 'contractor',
            effectiveAt: NOW,
            recordedAt: NOW,
          }),
        ]);
    });

    it.each<[string, IdentityCommand]>([
      ['ActivateIdentity', activateIdentity()],
      ['MoveIdentity', moveIdentity()],
      ['TerminateIdentity', terminateIdentity()],
      ['RehireIdentity', rehireIdentity()],
      ['CorrectIdentityAttributes', correctIdentityAttributes({ givenName: 'Augusta' })],
      ['LinkManager', linkManager()],
      ['AssignGroups', assignGroups(['eng'])],
    ])('refuses %s with IdentityNotFound', (_name, command) => {
      spec
        .given([])
        .when(command)
        .thenThrows(IdentityNotFound, (error) => {
          expect(error).toBeInstanceOf(DomainError);
          expect(error.code).toBe('identity-not-found');
          expect(error.identityId).toBe(IDENTITY_ID);
        });
    });

    it('refuses a time that is not RFC 3339', () => {
      spec
        .given([])
        .when(hireIdentity({ effectiveAt: '01/06/2026' }))
        .thenThrows(InvalidTimestamp, (error) => {
          expect(error.code).toBe('invalid-timestamp');
          expect(error.field).toBe('effectiveAt');
        });
    });
  });

  describe('pending identity', () => {
    const hiredPending = identityHired({ status: 'pending', effectiveAt: june(30), recordedAt: june(10) });

    it('activates at the start date, effective at the start date', () => {
      spec
        .given([hiredPending])
        .when(activateIdentity({ now: june(30) }))
        .then([identityActivated({ effectiveAt: june(30), recordedAt: june(30) })]);
    });

    it('activates when the scheduler fires late', () => {
      spec
        .given([hiredPending])
        .when(activateIdentity({ now: '2026-07-01T00:00:00Z' }))
        .then([identityActivated({ effectiveAt: june(30), recordedAt: '2026-07-01T00:00:00Z' })]);
    });

    it('refuses activation before the start date', () => {
      spec
        .given([hiredPending])
        .when(activateIdentity({ now: june(29) }))
        .thenThrows(ActivationBeforeStartDate, (error) => {
          expect(error.code).toBe('activation-before-start-date');
          expect(error.startsAt).toBe(june(30));
        });
    });

    it('applies a pre-start mover recorded after the hire, and stays pending', () => {
      spec
        .given([hiredPending])
        .when(moveIdentity({ department: 'Sales', effectiveAt: june(12), now: june(12) }))
        .then([
          identityMoved({
            status: 'pending',
            department: 'Sales',
            changes: [{ field: 'department', from: 'Engineering', to: 'Sales' }],
            effectiveAt: june(12),
            recordedAt: june(12),
          }),
        ]);
    });

    it('supersedes a mover effective before the hire was recorded', () => {
      spec
        .given([hiredPending])
        .when(moveIdentity({ department: 'Sales', effectiveAt: june(5), now: june(12) }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'move', employee: employee({ department: 'Sales' }) },
            supersededBy: june(10),
            effectiveAt: june(5),
            recordedAt: june(12),
          }),
        ]);
    });

    it('terminates before the start date (a withdrawn offer)', () => {
      spec
        .given([hiredPending])
        .when(terminateIdentity({ effectiveAt: june(20), now: june(20) }))
        .then([identityTerminated({ effectiveAt: june(20), recordedAt: june(20) })]);
    });

    it('refuses a second hire with IdentityAlreadyExists', () => {
      spec
        .given([hiredPending])
        .when(hireIdentity({ effectiveAt: june(30) }))
        .thenThrows(IdentityAlreadyExists, (error) => expect(error.code).toBe('identity-already-exists'));
    });

    it('refuses a rehire: only a terminated identity is rehired', () => {
      spec
        .given([hiredPending])
        .when(rehireIdentity())
        .thenThrows(InvalidLifecycleTransition, (error) => {
          expect(error.code).toBe('invalid-lifecycle-transition');
          expect(error.status).toBe('pending');
        });
    });
  });

  describe('active identity', () => {
    const hired = identityHired();

    it('does nothing when activated again', () => {
      spec
        .given([identityHired({ status: 'pending', effectiveAt: june(5), recordedAt: june(1) }), identityActivated({ effectiveAt: june(5), recordedAt: june(5) })])
        .when(activateIdentity())
        .then([]);
    });

    it('moves with each changed field named with its old and new value', () => {
      spec
        .given([hired])
        .when(moveIdentity({ department: 'Sales', title: 'Account Executive', location: undefined, effectiveAt: june(14) }))
        .then([
          identityMoved({
            department: 'Sales',
            title: 'Account Executive',
            location: undefined,
            changes: [
              { field: 'department', from: 'Engineering', to: 'Sales' },
              { field: 'title', from: 'Engineer', to: 'Account Executive' },
              { field: 'location', from: 'London', to: null },
            ],
            effectiveAt: june(14),
            recordedAt: NOW,
          }),
        ]);
    });

    it('yields nothing for a mover with no changed field', () => {
      spec.given([hired]).when(moveIdentity()).then([]);
    });

    it('keeps the linked manager while the record names the same manager', () => {
      spec
        .given([identityHired({ managerId: 'id-grace' })])
        .when(moveIdentity({ title: 'Lead' }))
        .then([
          identityMoved({
            managerId: 'id-grace',
            title: 'Lead',
            changes: [{ field: 'title', from: 'Engineer', to: 'Lead' }],
            effectiveAt: NOW,
            recordedAt: NOW,
          }),
        ]);
    });

    it('drops the linked manager when the new manager has no identity yet', () => {
      spec
        .given([identityHired({ managerId: 'id-grace' })])
        .when(moveIdentity({ managerEmployeeId: 'E2000' }))
        .then([
          identityMoved({
            managerEmployeeId: 'E2000',
            changes: [
              { field: 'managerEmployeeId', from: 'E1000', to: 'E2000' },
              { field: 'managerId', from: 'id-grace', to: null },
            ],
            effectiveAt: NOW,
            recordedAt: NOW,
          }),
        ]);
    });

    it('supersedes a mover older than the last one applied, and records what it carried', () => {
      spec
        .given([hired, identityMoved({ title: 'Lead', effectiveAt: june(10), recordedAt: june(10) })])
        .when(moveIdentity({ department: 'Sales', effectiveAt: june(8), now: NOW }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'move', employee: employee({ department: 'Sales' }) },
            supersededBy: june(10),
            effectiveAt: june(8),
            recordedAt: NOW,
          }),
        ]);
    });

    it('applies a mover effective at the same time as the last one', () => {
      spec
        .given([hired, identityMoved({ title: 'Lead', effectiveAt: june(10), recordedAt: june(10) })])
        .when(moveIdentity({ title: 'Principal', effectiveAt: june(10) }))
        .then([
          identityMoved({
            title: 'Principal',
            changes: [{ field: 'title', from: 'Lead', to: 'Principal' }],
            effectiveAt: june(10),
            recordedAt: NOW,
          }),
        ]);
    });

    it('refuses a mover for another employee id', () => {
      spec
        .given([hired])
        .when(moveIdentity({ employeeId: 'E9999' }))
        .thenThrows(EmployeeIdMismatch, (error) => expect(error.code).toBe('employee-id-mismatch'));
    });

    it('terminates a backdated leaver (effective yesterday, recorded today)', () => {
      spec
        .given([hired])
        .when(terminateIdentity({ effectiveAt: june(14), now: NOW }))
        .then([identityTerminated({ effectiveAt: june(14), recordedAt: NOW })]);
    });

    it('terminates a leaver even when it is older than the last mover applied', () => {
      spec
        .given([hired, identityMoved({ title: 'Lead', effectiveAt: june(10), recordedAt: june(10) })])
        .when(terminateIdentity({ effectiveAt: june(8), now: NOW }))
        .then([identityTerminated({ title: 'Lead', effectiveAt: june(8), recordedAt: NOW })]);
    });

    it('corrects a name and an email without a job change', () => {
      spec
        .given([hired])
        .when(correctIdentityAttributes({ givenName: 'Augusta Ada', email: 'augusta@example.com' }))
        .then([
          identityAttributesCorrected({
            givenName: 'Augusta Ada',
            email: 'augusta@example.com',
            changes: [
              { field: 'givenName', from: 'Ada', to: 'Augusta Ada' },
              { field: 'email', from: 'ada@example.com', to: 'augusta@example.com' },
            ],
          }),
        ]);
    });

    it('removes an optional attribute corrected to null', () => {
      spec
        .given([hired])
        .when(correctIdentityAttributes({ costCenter: null }))
        .then([
          identityAttributesCorrected({
            costCenter: undefined,
            changes: [{ field: 'costCenter', from: 'CC-10', to: null }],
          }),
        ]);
    });

    it('yields nothing for a correction that changes nothing', () => {
      spec.given([hired]).when(correctIdentityAttributes({ givenName: 'Ada', title: undefined })).then([]);
    });

    it('applies a correction whatever its effective time: corrections are not superseded', () => {
      spec
        .given([hired, identityMoved({ title: 'Lead', effectiveAt: june(10), recordedAt: june(10) })])
        .when(correctIdentityAttributes({ familyName: 'King' }, { effectiveAt: june(2) }))
        .then([
          identityAttributesCorrected({
            title: 'Lead',
            familyName: 'King',
            changes: [{ field: 'familyName', from: 'Lovelace', to: 'King' }],
            effectiveAt: june(2),
          }),
        ]);
    });

    it('links the manager once the manager has an identity', () => {
      spec
        .given([hired])
        .when(linkManager({ managerId: 'id-grace', managerEmployeeId: 'E1000' }))
        .then([managerLinked({ managerId: 'id-grace' })]);
    });

    it('yields nothing when the same manager is linked again', () => {
      spec
        .given([hired, managerLinked({ managerId: 'id-grace' })])
        .when(linkManager({ managerId: 'id-grace' }))
        .then([]);
    });

    it('yields nothing when the report has moved to another manager since', () => {
      spec
        .given([hired])
        .when(linkManager({ managerId: 'id-old-boss', managerEmployeeId: 'E0001' }))
        .then([]);
    });

    it('assigns groups, naming those added and removed', () => {
      spec
        .given([hired, groupsAssigned({ groups: ['eng', 'vpn'], effectiveAt: june(2), recordedAt: june(2) })])
        .when(assignGroups(['sales', 'vpn', 'sales']))
        .then([groupsAssigned({ groups: ['sales', 'vpn'], added: ['sales'], removed: ['eng'] })]);
    });

    it('yields nothing when the groups are unchanged', () => {
      spec
        .given([hired, groupsAssigned({ groups: ['eng'], effectiveAt: june(2), recordedAt: june(2) })])
        .when(assignGroups(['eng']))
        .then([]);
    });

    it('supersedes a group assignment older than the last one', () => {
      spec
        .given([hired, groupsAssigned({ groups: ['eng'], effectiveAt: june(10), recordedAt: june(10) })])
        .when(assignGroups(['old'], { effectiveAt: june(9) }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'groups', groups: ['old'] },
            supersededBy: june(10),
            effectiveAt: june(9),
            recordedAt: NOW,
            source: SCIM,
          }),
        ]);
    });

    it('does not let a group assignment supersede a later-arriving mover', () => {
      spec
        .given([hired, groupsAssigned({ groups: ['eng'], effectiveAt: june(14), recordedAt: june(14) })])
        .when(moveIdentity({ title: 'Lead', effectiveAt: june(13) }))
        .then([
          identityMoved({
            groups: ['eng'],
            title: 'Lead',
            changes: [{ field: 'title', from: 'Engineer', to: 'Lead' }],
            effectiveAt: june(13),
            recordedAt: NOW,
          }),
        ]);
    });

    it('refuses a rehire with InvalidLifecycleTransition', () => {
      spec
        .given([hired])
        .when(rehireIdentity())
        .thenThrows(InvalidLifecycleTransition, (error) => expect(error.status).toBe('active'));
    });

    it('refuses a second hire with IdentityAlreadyExists', () => {
      spec.given([hired]).when(hireIdentity()).thenThrows(IdentityAlreadyExists);
    });
  });

  describe('terminated identity', () => {
    const history = [identityHired(), identityTerminated()];

    it('yields nothing when terminated again', () => {
      spec.given(history).when(terminateIdentity()).then([]);
    });

    it('refuses a mover newer than the termination with InvalidLifecycleTransition', () => {
      spec
        .given(history)
        .when(moveIdentity({ title: 'Lead' }))
        .thenThrows(InvalidLifecycleTransition, (error) => {
          expect(error.code).toBe('invalid-lifecycle-transition');
          expect(error.command).toBe('MoveIdentity');
          expect(error.status).toBe('terminated');
        });
    });

    it('supersedes a late mover older than the termination instead of refusing it', () => {
      spec
        .given(history)
        .when(moveIdentity({ title: 'Lead', effectiveAt: june(11) }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'move', employee: employee({ title: 'Lead' }) },
            supersededBy: june(12),
            effectiveAt: june(11),
            recordedAt: NOW,
          }),
        ]);
    });

    it('does nothing when a scheduled activation fires after the identity was terminated', () => {
      spec.given(history).when(activateIdentity()).then([]);
    });

    it('still accepts a correction', () => {
      spec
        .given(history)
        .when(correctIdentityAttributes({ email: 'ada.lovelace@example.com' }))
        .then([
          identityAttributesCorrected({
            status: 'terminated',
            email: 'ada.lovelace@example.com',
            changes: [{ field: 'email', from: 'ada@example.com', to: 'ada.lovelace@example.com' }],
          }),
        ]);
    });

    it('rehires as active with the new record, its changes and fresh groups', () => {
      spec
        .given([identityHired({ groups: ['eng'] }), identityTerminated({ groups: ['eng'] })])
        .when(rehireIdentity({ employeeId: 'E2002', department: 'Research', effectiveAt: june(14), groups: ['research'] }))
        .then([
          identityRehired({
            employeeId: 'E2002',
            department: 'Research',
            groups: ['research'],
            changes: [
              { field: 'employeeId', from: 'E1001', to: 'E2002' },
              { field: 'department', from: 'Engineering', to: 'Research' },
            ],
            effectiveAt: june(14),
            recordedAt: NOW,
          }),
        ]);
    });

    it('rehires as pending when the rehire date is ahead, and activates at that date', () => {
      spec
        .given(history)
        .when(rehireIdentity({ effectiveAt: june(30) }))
        .then([identityRehired({ status: 'pending', effectiveAt: june(30), recordedAt: NOW })]);
      spec
        .given([...history, identityRehired({ status: 'pending', effectiveAt: june(30), recordedAt: NOW })])
        .when(activateIdentity({ now: june(30) }))
        .then([identityActivated({ effectiveAt: june(30), recordedAt: june(30) })]);
    });

    it('supersedes a rehire older than the termination', () => {
      spec
        .given(history)
        .when(rehireIdentity({ effectiveAt: june(11) }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'rehire', employee: employee(), groups: [] },
            supersededBy: june(12),
            effectiveAt: june(11),
            recordedAt: NOW,
          }),
        ]);
    });

    it('refuses a hire with IdentityAlreadyExists', () => {
      spec.given(history).when(hireIdentity()).thenThrows(IdentityAlreadyExists);
    });
  });

  describe('rehired identity', () => {
    const history = [
      identityHired(),
      identityTerminated({ effectiveAt: june(5), recordedAt: june(5) }),
      identityRehired({ effectiveAt: june(10), recordedAt: june(10) }),
    ];

    it('supersedes a leaver older than the rehire: it belonged to the previous employment', () => {
      spec
        .given(history)
        .when(terminateIdentity({ effectiveAt: june(5), source: { system: 'csv-import', channel: 'csv' } }))
        .then([
          identityChangeSuperseded({
            change: { kind: 'terminate' },
            supersededBy: june(10),
            effectiveAt: june(5),
            recordedAt: NOW,
            source: { system: 'csv-import', channel: 'csv' },
          }),
        ]);
    });

    it('terminates a leaver dated after the rehire', () => {
      spec
        .given(history)
        .when(terminateIdentity({ effectiveAt: june(14) }))
        .then([identityTerminated({ effectiveAt: june(14), recordedAt: NOW })]);
    });

    it('terminates a pending rehire that is withdrawn before its date', () => {
      spec
        .given([
          identityHired(),
          identityTerminated({ effectiveAt: june(5), recordedAt: june(5) }),
          identityRehired({ status: 'pending', effectiveAt: june(30), recordedAt: june(10) }),
        ])
        .when(terminateIdentity({ effectiveAt: june(14) }))
        .then([identityTerminated({ effectiveAt: june(14), recordedAt: NOW })]);
    });
  });
});

describe('identity source', () => {
  it('keeps the HR source on the events it causes', () => {
    const scim = { system: 'okta', eventId: 'req-9', channel: 'scim' } as const;
    spec
      .given([identityHired()])
      .when(terminateIdentity({ source: scim }))
      .then([identityTerminated({ source: scim, effectiveAt: NOW, recordedAt: NOW })]);
  });
});

describe('system of record', () => {
  const csv = { system: 'csv', eventId: 'csv:1', channel: 'csv' } as const;

  it('is the system of the change that hired the identity', () => {
    spec
      .given([])
      .when(hireIdentity({ source: csv }))
      .then([identityHired({ systemOfRecord: 'csv', source: csv, effectiveAt: NOW, recordedAt: NOW })]);
  });

  it('stays with the identity when another system moves it', () => {
    spec
      .given([identityHired()])
      .when(moveIdentity({ title: 'Lead', source: csv }))
      .then([identityMoved({ title: 'Lead', changes: [{ field: 'title', from: 'Engineer', to: 'Lead' }], source: csv, effectiveAt: NOW, recordedAt: NOW })]);
  });

  it('becomes the system of the rehire, which begins a new employment', () => {
    spec
      .given([identityHired(), identityTerminated()])
      .when(rehireIdentity({ source: csv }))
      .then([identityRehired({ systemOfRecord: 'csv', source: csv, effectiveAt: NOW, recordedAt: NOW })]);
  });

  it("is filled in from the hire's source for a stream recorded before snapshots named it", () => {
    const old = { systemOfRecord: undefined };
    spec
      .given([identityHired(old), identityMoved({ ...old, title: 'Lead' })])
      .when(terminateIdentity({ source: csv }))
      .then([identityTerminated({ systemOfRecord: 'workday', title: 'Lead', source: csv, effectiveAt: NOW, recordedAt: NOW })]);
  });

  it("is filled in from an old rehire's source", () => {
    const old = { systemOfRecord: undefined };
    spec
      .given([identityHired(old), identityTerminated(old), identityRehired({ ...old, source: { system: 'sap-hr', channel: 'nats' } })])
      .when(moveIdentity({ title: 'Lead' }))
      .then([identityMoved({ systemOfRecord: 'sap-hr', title: 'Lead', changes: [{ field: 'title', from: 'Engineer', to: 'Lead' }], effectiveAt: NOW, recordedAt: NOW })]);
  });
});
