export { imapModule } from './module.js';
