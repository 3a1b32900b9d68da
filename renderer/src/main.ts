/*
 * Renderer entry: takes the admin token out of the URL, mounts the app. Fails only if the
 * page has no #app element (a broken build), which shows as a blank page and a console error.
 */
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { takeTokenFromUrl } from './lib/api.js';

takeTokenFromUrl();
const target = document.getElementById('app');
if (!target) throw new Error('renderer: #app element missing');
mount(App, { target });
