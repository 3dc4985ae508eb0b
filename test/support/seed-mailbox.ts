// The seeding lives with the lab (src/lab/seed-mailbox.ts), so that the bench can use it through dist/.
export * from '../../src/lab/seed-mailbox.js';
