import { useEffect, useRef } from 'preact/hooks';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, indentUnit, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, lintKeymap, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorSelection, EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { rulesCompletion, type CompletionData } from './completion.js';
import type { Format } from './yaml-edit.js';

/** A fault in the text, where the server (or the preview) placed it: 1-based line and column. */
export interface Fault { message: string; line?: number; column?: number; pointer?: string }

export interface EditorHandle {
  /** Replaces the whole text (an exclusion added, a rule reset, another version loaded), as one undoable change. */
  replace(text: string): void;
  focus(): void;
  goToLine(line: number): void;
}

const theme = EditorView.theme({
  '&': { fontSize: '13.5px', backgroundColor: 'var(--surface)', height: '100%' },
  '.cm-scroller': { fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace', lineHeight: '1.55' },
  '.cm-gutters': { backgroundColor: '#f3f5f8', color: '#5b6573', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: '#f1f6fd' },
  '.cm-activeLineGutter': { backgroundColor: '#e4eefb', color: '#1b2430' },
  '&.cm-focused': { outline: 'none' },
  '.cm-content': { caretColor: '#1b2430' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: '#1f4e79', color: '#fff' },
  '.cm-diagnostic-error': { borderLeftColor: '#a11a1a' },
  '.cm-lintRange-error': { backgroundImage: 'none', textDecoration: 'underline wavy #a11a1a', textUnderlineOffset: '3px' },
});

function language(format: Format) {
  return format === 'json' ? json() : yaml();
}

/** Faults as diagnostics: from their column to the end of the token (or of the line). */
function diagnostics(state: EditorState, faults: Fault[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const fault of faults) {
    const lineNo = Math.min(Math.max(fault.line ?? 1, 1), state.doc.lines);
    const line = state.doc.line(lineNo);
    const from = Math.min(line.from + Math.max((fault.column ?? 1) - 1, 0), line.to);
    const rest = state.sliceDoc(from, line.to);
    const token = /^("[^"]*"?|'[^']*'?|\S+)/.exec(rest)?.[0].length ?? 0;
    const to = token > 0 ? from + token : line.to;
    out.push({ from: to > from ? from : line.from, to: to > from ? to : line.to, severity: 'error', message: fault.message, source: fault.pointer });
  }
  return out;
}

/**
 * CodeMirror styles itself with <style> elements; the console's CSP allows them only with the
 * nonce the hub puts in each page it serves (meta csp-nonce).
 */
const styleNonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? '';

export function RulesEditor(props: {
  initial: string; format: Format; faults: Fault[]; completion: CompletionData;
  onChange: (text: string) => void; handle: { current: EditorHandle | null }; describedBy?: string; readOnly?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const languageSlot = useRef(new Compartment());
  const readOnlySlot = useRef(new Compartment());
  const formatRef = useRef(props.format);
  formatRef.current = props.format;
  const dataRef = useRef(props.completion);
  dataRef.current = props.completion;
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    const state = EditorState.create({
      doc: props.initial,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), foldGutter(), lintGutter(), history(), drawSelection(), indentOnInput(),
        indentUnit.of('  '), EditorState.tabSize.of(2),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(), closeBrackets(), highlightActiveLine(),
        autocompletion({ override: [rulesCompletion(() => formatRef.current, () => dataRef.current)], activateOnTyping: true }),
        // Tab is not bound: it moves the focus on, so the editor never traps the keyboard (indent with Ctrl-] / Ctrl-[).
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap, ...foldKeymap]),
        languageSlot.current.of(language(props.format)),
        readOnlySlot.current.of(EditorState.readOnly.of(!!props.readOnly)),
        EditorView.contentAttributes.of({ 'aria-label': 'Rules', role: 'textbox', 'aria-multiline': 'true', tabindex: '0', ...(props.describedBy ? { 'aria-describedby': props.describedBy } : {}) }),
        EditorView.updateListener.of((update) => { if (update.docChanged) onChange.current(update.state.doc.toString()); }),
        theme,
        EditorView.cspNonce.of(styleNonce),
      ],
    });
    const v = new EditorView({ state, parent: host.current! });
    view.current = v;
    props.handle.current = {
      replace(text) {
        const current = v.state.doc.toString();
        if (text === current) return;
        const head = Math.min(v.state.selection.main.head, text.length);
        v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text }, selection: EditorSelection.cursor(head) });
      },
      focus() { v.focus(); },
      goToLine(line) {
        const l = v.state.doc.line(Math.min(Math.max(line, 1), v.state.doc.lines));
        v.dispatch({ selection: EditorSelection.cursor(l.from), effects: EditorView.scrollIntoView(l.from, { y: 'start', yMargin: 24 }) });
        v.focus();
      },
    };
    return () => { v.destroy(); view.current = null; props.handle.current = null; };
  }, []);

  useEffect(() => { view.current?.dispatch({ effects: languageSlot.current.reconfigure(language(props.format)) }); }, [props.format]);
  useEffect(() => { view.current?.dispatch({ effects: readOnlySlot.current.reconfigure(EditorState.readOnly.of(!!props.readOnly)) }); }, [props.readOnly]);
  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, diagnostics(v.state, props.faults)));
  }, [props.faults]);

  return <div class="rules-editor" ref={host} />;
}
