import { render } from 'preact';
import { App } from './app';
import { installDebugHook } from './debug-hook';
import './styles.css';

installDebugHook(); // only when the page set window.__CONVENE_DEBUG__ = true before loading

const root = document.getElementById('app');
if (root) render(<App />, root);
