import { redirect } from 'next/navigation';

// Nothing is served here until staff sign-in exists: every visitor is sent to /login.
export default function Home() {
  redirect('/login');
}
