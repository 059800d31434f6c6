import { render } from 'preact';
import './styles.css';
import { App } from './app.js';
import { interceptLinks } from './router.js';

const root = document.getElementById('app')!;
root.textContent = '';
interceptLinks(document.body);
render(<App />, root);
